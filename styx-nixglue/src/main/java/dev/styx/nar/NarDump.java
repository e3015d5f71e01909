package dev.styx.nar;

import dev.styx.nix.NixHash;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Serializes a file system tree as a NAR, canonical like {@code nix-store --dump}
 * (src/libutil/archive.cc dumpPath): entries in byte order, "executable" iff the owner x bit is set
 * (Nix tests S_IXUSR only), mtime/owner/other mode bits ignored, symlinks not followed.
 */
public final class NarDump {
  private NarDump() {}

  /** Writes the NAR of {@code root} to {@code out}; returns its size. */
  public static long dump(Path root, OutputStream out) throws IOException {
    NarWriter w = new NarWriter(out);
    walk(root, w);
    w.close();
    return w.bytesWritten();
  }

  /** The SHA-256 and size of {@code root}'s NAR, i.e. its narinfo NarHash and NarSize. */
  public static NarDigest hash(Path root) throws IOException {
    MessageDigest md = NixHash.Algorithm.SHA256.newDigest();
    long size = dump(root, new DigestOutputStream(OutputStream.nullOutputStream(), md));
    return new NarDigest(NixHash.sha256(md.digest()), size);
  }

  /** Feeds {@code root}'s tree to {@code visitor} in NAR order. */
  public static void walk(Path root, NarVisitor visitor) throws IOException {
    try {
      node(root, NarPath.ROOT, visitor);
    } catch (java.nio.file.InvalidPathException e) {
      throw new IOException(
          "cannot dump '"
              + root
              + "': a file name is not representable in the JVM's file name"
              + " encoding "
              + System.getProperty("sun.jnu.encoding")
              + " (run with a UTF-8 locale, e.g. LC_ALL=C.UTF-8): "
              + e.getMessage(),
          e);
    }
  }

  private static void node(Path file, NarPath path, NarVisitor v) throws IOException {
    PosixFileAttributes a =
        Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isSymbolicLink()) {
      String target = Files.readSymbolicLink(file).toString();
      if (target.indexOf('\uFFFD') >= 0) {
        // Java decoded the target lossily; writing it would silently change the NAR.
        throw new IOException(
            "cannot dump '"
                + file
                + "': symlink target is not valid "
                + System.getProperty("sun.jnu.encoding")
                + ", which Java cannot represent exactly");
      }
      v.symlink(path, target);
    } else if (a.isRegularFile()) {
      boolean exec = a.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
      if (v instanceof NarWriter w) {
        try (FileChannel ch =
            FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
          w.regularFile(path, exec, a.size(), ch);
        }
      } else {
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
          v.regularFile(path, exec, a.size(), in);
        }
      }
    } else if (a.isDirectory()) {
      v.directory(path);
      for (Child c : children(file)) {
        node(c.file, path.resolve(c.name), v);
      }
      v.endDirectory(path);
    } else {
      throw new IOException("cannot dump '" + file + "': not a regular file, directory or symlink");
    }
  }

  private record Child(byte[] name, Path file) {}

  private static List<Child> children(Path dir) throws IOException {
    List<Child> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        if (name.indexOf('\uFFFD') >= 0 && !sameFile(dir.resolve(name), p)) {
          throw new IOException(
              "cannot dump '"
                  + p
                  + "': its name is not valid "
                  + System.getProperty("sun.jnu.encoding")
                  + ", which Java cannot represent exactly (only such names are supported)");
        }
        out.add(new Child(name.getBytes(StandardCharsets.UTF_8), p));
      }
    }
    out.sort((x, y) -> Arrays.compareUnsigned(x.name, y.name));
    return out;
  }

  private static boolean sameFile(Path byName, Path raw) {
    try {
      return Files.exists(byName, LinkOption.NOFOLLOW_LINKS) && Files.isSameFile(byName, raw);
    } catch (IOException | java.nio.file.InvalidPathException e) {
      return false; // e.g. a non-ASCII name under a non-UTF-8 locale
    }
  }
}
