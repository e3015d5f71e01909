package dev.styx.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native SHA-256 against the JDK's: FIPS 180-2 vectors, every length around the block and
 * padding boundaries, random splits of updates, and {@link Sha256#updateBoth} from every pair of
 * partial-block states.
 */
class Sha256Test {
  private static boolean cpuHasShaExtensions() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("flags")) {
        return (" " + line + " ").contains(" sha_ni ");
      }
    }
    return false;
  }

  private static boolean x86Linux() {
    return System.getProperty("os.arch").equals("amd64")
        && System.getProperty("os.name").equals("Linux");
  }

  /** The native path runs wherever it can: built into the jar on x86_64 Linux, used on SHA CPUs. */
  @Test
  void availableExactlyWhereTheCpuHasTheShaExtensions() throws IOException {
    boolean expected = x86Linux() && cpuHasShaExtensions();
    assertEquals(expected, Sha256.available(), "native SHA-256: " + Sha256.unavailableReason());
    if (!expected) {
      assertThrows(IllegalStateException.class, Sha256::create);
    }
  }

  private static byte[] jdk(byte[] b, int off, int len) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    md.update(b, off, len);
    return md.digest();
  }

  @Test
  void fipsVectors() {
    Tiers.requireNativeSha256();
    HexFormat hex = HexFormat.of();
    String[][] vectors = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
      },
    };
    Sha256 h = Sha256.create();
    for (String[] v : vectors) {
      byte[] in = v[0].getBytes(StandardCharsets.US_ASCII);
      h.update(in, 0, in.length);
      assertEquals(v[1], hex.formatHex(h.digest()), "SHA-256(\"" + v[0] + "\")");
    }
    byte[] a = new byte[1_000_000];
    java.util.Arrays.fill(a, (byte) 'a');
    h.update(a, 0, a.length);
    assertEquals(
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        hex.formatHex(h.digest()),
        "a million 'a'");
  }

  @Test
  void everyLengthAroundBlockAndPaddingBoundaries() throws Exception {
    Tiers.requireNativeSha256();
    byte[] data = new byte[300];
    new Random(1).nextBytes(data);
    Sha256 h = Sha256.create();
    for (int len = 0; len <= data.length; len++) {
      h.update(data, 0, len);
      assertArrayEquals(jdk(data, 0, len), h.digest(), "length " + len);
    }
  }

  @Test
  void randomSplitsAndOffsets() throws Exception {
    Tiers.requireNativeSha256();
    Random r = new Random(2);
    byte[] data = new byte[1 << 20];
    r.nextBytes(data);
    Sha256 h = Sha256.create();
    for (int round = 0; round < 200; round++) {
      int off = r.nextInt(1000);
      int len = r.nextInt(round % 10 == 0 ? data.length - off : 5000);
      int done = 0;
      while (done < len) {
        int n = Math.min(len - done, r.nextInt(4) == 0 ? r.nextInt(200) : r.nextInt(70_000));
        h.update(data, off + done, n);
        done += n;
      }
      assertEquals(len, h.length());
      assertArrayEquals(jdk(data, off, len), h.digest(), "round " + round);
    }
  }

  @Test
  void updateBothFromEveryPairOfPartialBlocks() throws Exception {
    Tiers.requireNativeSha256();
    Random r = new Random(3);
    byte[] prefixX = new byte[64];
    byte[] prefixY = new byte[64];
    byte[] body = new byte[700];
    r.nextBytes(prefixX);
    r.nextBytes(prefixY);
    r.nextBytes(body);
    Sha256 x = Sha256.create();
    Sha256 y = Sha256.create();
    for (int px = 0; px < 64; px += 7) {
      for (int py = 0; py < 64; py += 5) {
        for (int len : new int[] {0, 1, 63, 64, 65, 127, 128, 129, 300, 700}) {
          int off = (px + py + len) % 11;
          len = Math.min(len, body.length - off);
          x.update(prefixX, 0, px);
          y.update(prefixY, 0, py);
          Sha256.updateBoth(x, y, body, off, len);
          assertArrayEquals(
              jdk(concat(prefixX, px, body, off, len), 0, px + len),
              x.digest(),
              "x: prefix " + px + ", body " + off + "+" + len);
          assertArrayEquals(
              jdk(concat(prefixY, py, body, off, len), 0, py + len),
              y.digest(),
              "y: prefix " + py + ", body " + off + "+" + len);
        }
      }
    }
  }

  @Test
  void updateBothOverALongStreamMatchesTwoJdkDigests() throws Exception {
    Tiers.requireNativeSha256();
    Random r = new Random(4);
    byte[] data = new byte[4 << 20];
    r.nextBytes(data);
    MessageDigest whole = MessageDigest.getInstance("SHA-256");
    Sha256 stream = Sha256.create();
    Sha256 piece = Sha256.create();
    int pos = 0;
    while (pos < data.length) {
      // Framing bytes into the stream digest alone, then a piece into both (as NarReader does).
      int framing = Math.min(r.nextInt(120), data.length - pos);
      stream.update(data, pos, framing);
      whole.update(data, pos, framing);
      pos += framing;
      int len =
          Math.min(r.nextInt(3) == 0 ? r.nextInt(300) : r.nextInt(1 << 17), data.length - pos);
      Sha256.updateBoth(stream, piece, data, pos, len);
      whole.update(data, pos, len);
      assertArrayEquals(jdk(data, pos, len), piece.digest(), "piece at " + pos);
      pos += len;
    }
    assertArrayEquals(whole.digest(), stream.digest());
  }

  @Test
  void copyIsIndependentAndResetStartsOver() throws Exception {
    Tiers.requireNativeSha256();
    byte[] data = "the quick brown fox jumps over the lazy dog".getBytes(StandardCharsets.US_ASCII);
    Sha256 h = Sha256.create();
    h.update(data, 0, 10);
    Sha256 c = h.copy();
    h.update(data, 10, data.length - 10);
    c.update(data, 10, 5);
    assertArrayEquals(jdk(data, 0, data.length), h.digest());
    assertArrayEquals(jdk(data, 0, 15), c.digest());
    h.update(data, 0, 3);
    h.reset();
    assertArrayEquals(jdk(data, 0, 0), h.digest());
  }

  @Test
  void updateBothNeedsTwoDigestsAndChecksBounds() {
    Tiers.requireNativeSha256();
    Sha256 h = Sha256.create();
    assertThrows(IllegalArgumentException.class, () -> Sha256.updateBoth(h, h, new byte[8], 0, 8));
    assertThrows(
        IndexOutOfBoundsException.class,
        () -> Sha256.updateBoth(h, Sha256.create(), new byte[8], 4, 8));
    assertThrows(IndexOutOfBoundsException.class, () -> h.update(new byte[8], -1, 2));
    assertFalse(h.length() != 0, "nothing was hashed by the refused calls");
    assertTrue(Sha256.unavailableReason() == null);
  }

  private static byte[] concat(byte[] a, int alen, byte[] b, int off, int len) {
    byte[] out = new byte[alen + len];
    System.arraycopy(a, 0, out, 0, alen);
    System.arraycopy(b, off, out, alen, len);
    return out;
  }
}
