package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.StorePath;
import dev.styx.testing.NixCacheFixture;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lzip decoder on a real {@code compression=lzip} file written by Nix (through libarchive): the
 * NAR comes back byte for byte, members may follow each other, and every damaged form (cut
 * anywhere, a flipped data byte, a wrong CRC, size or member size, trailing garbage, a bad header,
 * a dictionary over the memory limit) fails with the reason in words.
 */
class LzipInputStreamTest {
  private static byte[] lzip;
  private static byte[] nar;

  @BeforeAll
  static void nixFile() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    Path cache = fx.cacheDirFor("lzip");
    StorePath tree = fx.tree();
    NarInfo ni = NarInfo.parse(Files.readString(cache.resolve(tree.hashPart() + ".narinfo")));
    lzip = Files.readAllBytes(cache.resolve(ni.url()));
    nar = dev.styx.nar.NarDumpNixTest.nixDumpPublic(Path.of(tree.toString()));
    assertTrue(nar.length > 100_000, "fixture tree unexpectedly small: " + nar.length);
  }

  private static byte[] decode(byte[] file, int limitKib) throws IOException {
    try (InputStream in = new LzipInputStream(new ByteArrayInputStream(file), limitKib, "t")) {
      return in.readAllBytes();
    }
  }

  private static byte[] decode(byte[] file) throws IOException {
    return decode(file, 160 * 1024);
  }

  private static String failure(byte[] file) {
    return assertThrows(CorruptCompressionException.class, () -> decode(file)).getMessage();
  }

  private static void assertFails(byte[] file, String why) {
    String msg = failure(file);
    assertTrue(msg.contains(why), "expected '" + why + "' in: " + msg);
  }

  @Test
  void decodesNixsFile() throws IOException {
    assertArrayEquals(nar, decode(lzip));
  }

  @Test
  void decodesMembersOneAfterAnother() throws IOException {
    byte[] two = Arrays.copyOf(lzip, lzip.length * 2);
    System.arraycopy(lzip, 0, two, lzip.length, lzip.length);
    byte[] want = Arrays.copyOf(nar, nar.length * 2);
    System.arraycopy(nar, 0, want, nar.length, nar.length);
    assertArrayEquals(want, decode(two));
  }

  @Test
  void truncatedAnywhereFails() {
    for (int keep : new int[] {3, 6, 40, lzip.length / 2, lzip.length - 21, lzip.length - 1}) {
      assertThrows(
          CorruptCompressionException.class,
          () -> decode(Arrays.copyOf(lzip, keep)),
          "cut to " + keep + " bytes");
    }
    assertFails(Arrays.copyOf(lzip, lzip.length - 1), "truncated member trailer");
  }

  @Test
  void flippedDataByteFails() {
    byte[] bad = lzip.clone();
    bad[lzip.length / 2] ^= 0x40;
    assertThrows(CorruptCompressionException.class, () -> decode(bad));
  }

  @Test
  void everyTrailerFieldIsChecked() {
    int t = lzip.length - 20;
    byte[] crc = lzip.clone();
    crc[t] ^= 1;
    assertFails(crc, "CRC32 mismatch");
    byte[] size = lzip.clone();
    size[t + 4] ^= 1;
    assertFails(size, "data size mismatch");
    byte[] member = lzip.clone();
    member[t + 12] ^= 1;
    assertFails(member, "member size mismatch");
  }

  @Test
  void trailingGarbageFails() {
    byte[] bad = Arrays.copyOf(lzip, lzip.length + 5);
    System.arraycopy("junk!".getBytes(), 0, bad, lzip.length, 5);
    assertFails(bad, "trailing data after the last member");
  }

  @Test
  void badHeadersFail() {
    byte[] magic = lzip.clone();
    magic[0] = 'X';
    assertFails(magic, "not an lzip file");
    byte[] version = lzip.clone();
    version[4] = 2;
    assertFails(version, "unsupported lzip version 2");
    byte[] dict = lzip.clone();
    dict[5] = 30; // 2^30: lzip allows at most 2^29
    assertFails(dict, "invalid dictionary size code 30");
    assertFails(new byte[0], "empty file");
  }

  @Test
  void dictionaryOverTheMemoryLimitIsRefused() {
    String msg =
        assertThrows(CorruptCompressionException.class, () -> decode(lzip, 64)).getMessage();
    assertTrue(msg.contains("over the limit of 64 KiB"), msg);
  }
}
