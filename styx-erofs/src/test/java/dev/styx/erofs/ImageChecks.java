package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.styx.kernel.Syscalls;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/** The real oracles for written images: mount(2) by the kernel, fsck.erofs, nix-store --dump. */
final class ImageChecks {
  private ImageChecks() {}

  /** SHA-256 and length of {@code nix-store --dump path}, streamed. */
  static String narDigest(Path path) throws Exception {
    Process p =
        new ProcessBuilder("nix-store", "--dump", path.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    p.getOutputStream().close();
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long n = 0;
    try (InputStream in = p.getInputStream()) {
      byte[] b = new byte[1 << 16];
      for (int r; (r = in.read(b)) > 0; ) {
        md.update(b, 0, r);
        n += r;
      }
    }
    if (p.waitFor() != 0) {
      fail("nix-store --dump " + path + " exited " + p.exitValue());
    }
    return HexFormat.of().formatHex(md.digest()) + " (" + n + " bytes)";
  }

  /** Mounts {@code image} file-backed with {@code slabs} as devices and runs {@code body}. */
  static void withMount(Path image, List<Path> slabs, Path target, MountBody body)
      throws Exception {
    Tiers.requireRoot();
    Files.createDirectories(target);
    StringBuilder opts = new StringBuilder();
    for (Path s : slabs) {
      opts.append(opts.isEmpty() ? "" : ",").append("device=").append(s.toAbsolutePath());
    }
    Syscalls.mount(
        image.toAbsolutePath().toString(),
        target,
        "erofs",
        Syscalls.MS_RDONLY,
        opts.isEmpty() ? null : opts.toString());
    try {
      body.run(target);
    } finally {
      Syscalls.umount(target, Syscalls.MNT_DETACH);
    }
  }

  /** The NAR of the mounted image equals the NAR of {@code source}, byte for byte. */
  static void assertMountMatches(Path image, List<Path> slabs, Path source, Path target)
      throws Exception {
    assertRoundTrips(image);
    Tiers.requireNix();
    String want = narDigest(source);
    withMount(image, slabs, target, m -> assertEquals(want, narDigest(m), "NAR of the mount"));
  }

  /** fsck.erofs passes and its extraction has the same NAR as {@code source}. */
  static void assertFsckExtractMatches(Path image, List<Path> slabs, Path source, Path into)
      throws Exception {
    Tiers.requireCommand("fsck.erofs");
    Tiers.requireNix();
    String[] cmd = new String[slabs.size() + 3];
    cmd[0] = "fsck.erofs";
    for (int i = 0; i < slabs.size(); i++) {
      cmd[1 + i] = "--device=" + slabs.get(i).toAbsolutePath();
    }
    cmd[slabs.size() + 1] = "--extract=" + into.toAbsolutePath();
    cmd[slabs.size() + 2] = image.toAbsolutePath().toString();
    Tiers.run(null, cmd);
    assertEquals(narDigest(source), narDigest(into), "NAR of fsck.erofs --extract");
  }

  /** The reader parses the image and writing the result gives the same bytes. */
  static void assertRoundTrips(Path image) throws Exception {
    byte[] bytes = Files.readAllBytes(image);
    org.junit.jupiter.api.Assertions.assertArrayEquals(
        bytes, ErofsWriter.write(ErofsReader.read(bytes)), "read + rewrite of " + image);
  }

  /** Work done while an image is mounted. */
  interface MountBody {
    void run(Path mountpoint) throws Exception;
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
