package dev.styx.nar;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Unpacks a NAR into a new path, like {@code nix-store --restore}: it is built under a temporary
 * sibling and renamed into place only when the whole NAR parsed, so a bad NAR leaves nothing
 * behind. Never writes outside the target: the reader rejects '/', NUL, '.', '..' in names, every
 * node is created exclusively (no following of existing links), and an existing target is refused.
 */
public final class NarRestore {
  private NarRestore() {}

  /** Restores the NAR read from {@code nar} to {@code target}, which must not exist. */
  public static void restore(InputStream nar, Path target) throws IOException {
    Path abs = target.toAbsolutePath();
    if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("refusing to restore into '" + target + "': it already exists");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new IOException("cannot restore into '" + target + "': parent directory missing");
    }
    Path tmp =
        parent.resolve(
            "."
                + abs.getFileName()
                + ".styx-restore-"
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
    boolean done = false;
    try {
      NarReader.read(nar, new Writer(tmp));
      if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("refusing to restore into '" + target + "': it appeared meanwhile");
      }
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
      done = true;
    } finally {
      if (!done) {
        deleteTree(tmp);
      }
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        p,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
            Files.delete(f);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private static String strictUtf8(byte[] b) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(b))
        .toString();
  }

  /** Creates each node under {@code root}. */
  private static final class Writer implements NarVisitor {
    private final Path root;
    private final byte[] buf = new byte[256 * 1024];

    Writer(Path root) {
      this.root = root;
    }

    private Path fileFor(NarPath p) throws IOException {
      if (p.isRoot()) {
        return root;
      }
      try {
        // Strict decoding: Java paths are strings, so a non-UTF-8 name cannot be made exactly.
        return root.resolve(strictUtf8(p.toBytes()));
      } catch (CharacterCodingException e) {
        throw new IOException("cannot restore '" + p + "': entry name is not valid UTF-8");
      }
    }

    @Override
    public void directory(NarPath path) throws IOException {
      Files.createDirectory(fileFor(path));
    }

    @Override
    public void endDirectory(NarPath path) {}

    @Override
    public void regularFile(NarPath path, boolean executable, long size, InputStream contents)
        throws IOException {
      Path f = fileFor(path);
      try (OutputStream out =
          Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        int n;
        while ((n = contents.read(buf)) > 0) {
          out.write(buf, 0, n);
        }
      }
      if (executable) {
        // Like Nix: add x for everyone to whatever the umask left.
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(f);
        perms.add(PosixFilePermission.OWNER_EXECUTE);
        perms.add(PosixFilePermission.GROUP_EXECUTE);
        perms.add(PosixFilePermission.OTHERS_EXECUTE);
        Files.setPosixFilePermissions(f, perms);
      }
    }

    @Override
    public void symlink(NarPath path, byte[] target) throws IOException {
      String t;
      try {
        t = strictUtf8(target);
      } catch (CharacterCodingException e) {
        throw new IOException("cannot restore '" + path + "': symlink target is not valid UTF-8");
      }
      symlink(path, t);
    }

    @Override
    public void symlink(NarPath path, String target) throws IOException {
      Path f = fileFor(path);
      Path t = Path.of(target);
      if (t.toString().equals(target)) {
        Files.createSymbolicLink(f, t);
      } else {
        // java.nio normalizes "a//b" and "a/" in Path.of; ln keeps the target byte-exact.
        lnSymlink(target, f);
      }
    }

    private static void lnSymlink(String target, Path link) throws IOException {
      Process p =
          new ProcessBuilder("ln", "-s", "--", target, link.toString())
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectErrorStream(true)
              .start();
      try {
        if (p.waitFor() != 0) {
          throw new IOException("ln -s failed for '" + link + "'");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted creating symlink '" + link + "'", e);
      }
    }
  }
}
