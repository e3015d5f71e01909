package dev.styx.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.hash.DigestHandoff;
import dev.styx.hash.Sha256;
import dev.styx.testing.Tiers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A NAR stream that hands its digest to {@link NarReader}: the reader must hash every byte in order
 * before each next read (checked at every read), whatever the visitor does with file contents
 * (reads with {@link NarReader.Contents#readHashing}, plain reads, partial reads, skips), and
 * contents read with {@code readHashing} get their own digest right.
 */
class NarReaderDigestHandoffTest {
  /** Serves a NAR in random-sized reads and checks the handed-off digest kept up at every read. */
  private static final class HandoffStream extends InputStream implements DigestHandoff {
    private final byte[] nar;
    private final Random r;
    private int pos;
    private Sha256 digest;

    HandoffStream(byte[] nar, long seed) {
      this.nar = nar;
      this.r = new Random(seed);
    }

    @Override
    public Optional<Sha256> handOffDigest() {
      digest = Sha256.create();
      return Optional.of(digest);
    }

    @Override
    public int read() {
      throw new AssertionError("NarReader reads in bulk");
    }

    @Override
    public int read(byte[] b, int off, int len) {
      assertNotNull(digest, "the reader took the digest before reading");
      assertEquals(pos, digest.length(), "bytes hashed before the next read");
      if (pos == nar.length) {
        return -1;
      }
      int n =
          Math.min(len, Math.min(nar.length - pos, 1 + r.nextInt(r.nextBoolean() ? 100 : 400_000)));
      System.arraycopy(nar, pos, b, off, n);
      pos += n;
      return n;
    }
  }

  private record Tree(byte[] nar, List<byte[]> files) {}

  private static Tree tree(Random r) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    NarWriter w = new NarWriter(out);
    List<byte[]> files = new ArrayList<>();
    int[] sizes = {0, 1, 7, 8, 63, 64, 65, 200, 4095, 65_535, 65_536, 70_001, 262_144, 300_001};
    w.directory(NarPath.ROOT);
    for (int i = 0; i < sizes.length * 3; i++) {
      int size = i < sizes.length ? sizes[i] : r.nextInt(i % 5 == 0 ? 1_200_000 : 9000);
      byte[] data = new byte[size];
      r.nextBytes(data);
      files.add(data);
      NarPath p = NarPath.of(String.format("f%03d", i));
      w.regularFile(p, i % 4 == 0, data);
      if (i % 6 == 0) {
        w.symlink(NarPath.of(String.format("f%03d-link", i)), "f" + i);
      }
    }
    w.endDirectory(NarPath.ROOT);
    return new Tree(out.toByteArray(), files);
  }

  @Test
  void theReaderHashesEveryByteInOrderWhateverTheVisitorReads() throws Exception {
    Tiers.requireNativeSha256();
    for (long seed = 1; seed <= 6; seed++) {
      Random r = new Random(seed);
      Tree t = tree(r);
      HandoffStream in = new HandoffStream(t.nar(), seed);
      List<String> checked = new ArrayList<>();
      NarVisitor v =
          new NarVisitor() {
            int file;

            @Override
            public void directory(NarPath path) {}

            @Override
            public void endDirectory(NarPath path) {}

            @Override
            public void symlink(NarPath path, String target) {}

            @Override
            public void regularFile(NarPath path, boolean executable, long size, InputStream c)
                throws IOException {
              byte[] want = t.files().get(file++);
              NarReader.Contents contents = (NarReader.Contents) c;
              switch (file % 4) {
                case 0, 1 -> { // hashed reads in pieces of any size
                  Sha256 own = Sha256.create();
                  byte[] got = new byte[(int) size];
                  int off = 0;
                  while (off < size) {
                    int n =
                        contents.readHashing(
                            got, off, Math.min((int) size - off, 1 + r.nextInt(300_000)), own);
                    off += n;
                  }
                  assertArrayEquals(want, got, path.toString());
                  assertArrayEquals(sha256(want), own.digest(), "own digest of " + path);
                  checked.add(path.toString());
                }
                case 2 -> { // a plain read (large ones bypass the buffer); the reader drains the
                  // rest
                  byte[] got = new byte[(int) size / 2];
                  assertEquals(got.length, c.readNBytes(got, 0, got.length));
                  assertArrayEquals(Arrays.copyOf(want, got.length), got);
                }
                default -> c.skip(size / 3); // skipped, then drained
              }
            }
          };
      assertEquals(t.nar().length, NarReader.read(in, v));
      assertArrayEquals(sha256(t.nar()), in.digest.copy().digest(), "NarHash, seed " + seed);
      assertTrue(checked.size() > 10, "hashed reads happened: " + checked.size());
    }
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
