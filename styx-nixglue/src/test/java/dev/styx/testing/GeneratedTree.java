package dev.styx.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

/**
 * A deterministic tree with every entry kind a NAR can hold and the awkward cases: empty files and
 * directories, executables (and a file with only group/other x bits, which Nix does not count),
 * symlinks to directories, dangling and absolute symlinks, a target with a trailing slash,
 * non-ASCII names, names that sort differently in byte order than in Unicode collation, sizes on
 * and off the 8-byte padding boundary, nesting, and a 300 KB random blob.
 */
public final class GeneratedTree {
  private GeneratedTree() {}

  /** Creates the tree at {@code root} (which must not exist). */
  public static Path create(Path root) throws IOException {
    Random rnd = new Random(42);
    Files.createDirectory(root);
    Files.createDirectory(root.resolve("empty-dir"));
    Files.write(root.resolve("empty-file"), new byte[0]);
    write(root.resolve("hello.txt"), "hello, world\n");
    write(root.resolve("eight...").resolve("x"), "");
    Path bin = Files.createDirectories(root.resolve("bin"));
    write(bin.resolve("tool"), "#!/bin/sh\necho tool\n");
    Files.setPosixFilePermissions(
        bin.resolve("tool"), PosixFilePermissions.fromString("rwxr-xr-x"));
    write(bin.resolve("other-x-only"), "not executable for Nix\n");
    Files.setPosixFilePermissions(
        bin.resolve("other-x-only"), PosixFilePermissions.fromString("rw-r-xr-x"));
    write(bin.resolve("owner-x-only"), "executable for Nix\n");
    Files.setPosixFilePermissions(
        bin.resolve("owner-x-only"), PosixFilePermissions.fromString("rwx------"));
    Files.createSymbolicLink(root.resolve("link-to-dir"), Path.of("bin"));
    Files.createSymbolicLink(root.resolve("dangling"), Path.of("does/not/exist"));
    Files.createSymbolicLink(root.resolve("absolute"), Path.of("/etc/hostname"));
    // Path.of would normalize the trailing slash away; ln keeps it.
    try {
      Tiers.run(root, "ln", "-s", "bin/", "trailing-slash");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    Path names = Files.createDirectories(root.resolve("names"));
    for (String n :
        new String[] {
          "café",
          "Zürich",
          "日本語",
          "emoji-\uD83D\uDE00",
          "with space",
          "B",
          "a",
          "a.b",
          "a-b",
          "a_b",
          "ä",
          "Ä",
          "z",
          "~tilde",
          "-dash",
          "+plus",
          "=eq",
          "'quote'",
          "back\\slash"
        }) {
      write(names.resolve(n), n + "\n");
    }
    Path deep = root;
    for (int i = 0; i < 12; i++) {
      deep = deep.resolve("d" + i);
    }
    Files.createDirectories(deep);
    write(deep.resolve("leaf"), "deep\n");
    Path sizes = Files.createDirectories(root.resolve("sizes"));
    for (int n : new int[] {1, 7, 8, 9, 15, 16, 17, 4095, 4096, 4097, 65536}) {
      byte[] b = new byte[n];
      rnd.nextBytes(b);
      Files.write(sizes.resolve("s" + n), b);
    }
    byte[] blob = new byte[300 * 1024];
    rnd.nextBytes(blob);
    Files.write(root.resolve("blob.bin"), blob);
    return root;
  }

  private static void write(Path p, String s) throws IOException {
    Files.createDirectories(p.getParent());
    Files.write(p, s.getBytes(StandardCharsets.UTF_8));
  }
}
