package dev.styx.nar;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * Run in a child JVM with a tiny heap by {@link NarMemoryBoundTest}: parses and hashes a synthetic
 * NAR with a huge file and many entries, then restores one with a large file, all streamed. Prints
 * "ok SIZE SHA256".
 */
public final class NarMemoryProbe {
  private NarMemoryProbe() {}

  /** Yields {@code n} zero bytes without holding them. */
  static InputStream zeros(long n) {
    return new InputStream() {
      long left = n;

      @Override
      public int read() {
        if (left == 0) {
          return -1;
        }
        left--;
        return 0;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left == 0) {
          return -1;
        }
        int k = (int) Math.min(len, left);
        java.util.Arrays.fill(b, off, off + k, (byte) 0);
        left -= k;
        return k;
      }
    };
  }

  /** A NAR: a directory holding {@code entries} small files and one {@code big}-byte file. */
  static InputStream syntheticNar(int entries, long big) {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    head.writeBytes(NarBytes.of("nix-archive-1", "(", "type", "directory"));
    for (int i = 0; i < entries; i++) {
      head.writeBytes(NarBytes.of(NarBytes.fileEntry(String.format("a%07d", i), "x")));
    }
    head.writeBytes(
        NarBytes.of(
            "entry",
            "(",
            "name",
            "z-big",
            "node",
            "(",
            "type",
            "regular",
            "contents",
            NarBytes.u64(big)));
    byte[] tail = NarBytes.of(NarBytes.raw(new byte[(int) ((8 - big % 8) % 8)]), ")", ")", ")");
    return new SequenceInputStream(
        java.util.Collections.enumeration(
            List.of(
                new java.io.ByteArrayInputStream(head.toByteArray()),
                zeros(big),
                new java.io.ByteArrayInputStream(tail))));
  }

  public static void main(String[] args) throws IOException {
    long big = Long.parseLong(args[0]);
    int entries = Integer.parseInt(args[1]);
    Path restoreTo = Path.of(args[2]);
    MessageDigest md = dev.styx.nix.NixHash.Algorithm.SHA256.newDigest();
    long size;
    try (InputStream in = new DigestInputStream(syntheticNar(entries, big), md)) {
      size = NarReader.read(in, NarReaderHostileTest.SINK);
    }
    // Restore a NAR with a large file: streamed to disk, never buffered.
    NarRestore.restore(syntheticNar(10, big / 4), restoreTo);
    long restored = Files.size(restoreTo.resolve("z-big"));
    if (restored != big / 4) {
      throw new IllegalStateException("restored " + restored + " bytes, expected " + big / 4);
    }
    System.out.println("ok " + size + " " + HexFormat.of().formatHex(md.digest()));
  }
}
