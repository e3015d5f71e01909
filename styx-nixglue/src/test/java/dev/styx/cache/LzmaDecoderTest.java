package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.sig.NixKeyring;
import dev.styx.testing.NixCacheFixture;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

/**
 * xz NARs decoded by liblzma in process (the default): the same bytes as the Java decoder on a real
 * Nix cache, and every kind of bad input (truncated, corrupt, trailing garbage, not xz, over the
 * memory limit, a failing upstream) fails with a clear error instead of passing.
 */
class LzmaDecoderTest {
  private static LibLzma lib;

  @BeforeAll
  static void load() {
    // liblzma5 is part of every Debian system (dpkg and xz-utils need it): missing is a failure.
    lib = LibLzma.get().orElseThrow(() -> new AssertionError("liblzma.so.5 did not load"));
  }

  private static byte[] xz(byte[] data, int preset, int check) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (XZOutputStream out = new XZOutputStream(bos, new LZMA2Options(preset), check)) {
      out.write(data);
    }
    return bos.toByteArray();
  }

  private static byte[] sample(int n, long seed) {
    // Compressible but not trivial: words from a small random alphabet.
    Random r = new Random(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ('a' + r.nextInt(r.nextInt(3) == 0 ? 26 : 4));
    }
    return b;
  }

  private static byte[] decode(byte[] file, long memlimit) throws IOException {
    try (InputStream in =
        new LzmaInputStream(lib, new ByteArrayInputStream(file), memlimit, "t.xz")) {
      return in.readAllBytes();
    }
  }

  @Test
  void realNixCacheDecodesLikeTheJavaDecoderAndHashesToNarHash() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    Path cache = fx.cacheDir("xz");
    assertTrue(Decompression.liblzma("xz").isPresent(), "xz goes to liblzma by default");
    try (BinaryCacheClient c =
        BinaryCacheClient.builder("file://" + cache)
            .trustedKeys(NixKeyring.parse(fx.publicKey()))
            .build()) {
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      byte[] viaLiblzma;
      try (InputStream in = c.openNar(ni)) {
        viaLiblzma = in.readAllBytes();
      }
      byte[] viaJava;
      System.setProperty(Decompression.EXTERNAL_PROPERTY, "false");
      try (InputStream in = c.openNar(ni)) {
        viaJava = in.readAllBytes();
      } finally {
        System.clearProperty(Decompression.EXTERNAL_PROPERTY);
      }
      assertEquals(ni.narSize(), viaLiblzma.length);
      assertArrayEquals(viaJava, viaLiblzma);
      assertEquals(
          ni.narHash(),
          new NixHash(
              ni.narHash().algorithm(), ni.narHash().algorithm().newDigest().digest(viaLiblzma)));
      // The raw file, straight through the decoder, too.
      byte[] file = Files.readAllBytes(cache.resolve(ni.url()));
      assertArrayEquals(viaJava, decode(file, 160L << 20));
    }
  }

  @Test
  void largeOutputAcrossManyBuffersAndEveryCheckType() throws Exception {
    byte[] data = sample(3 << 20, 1); // 12 output buffers of 256 KiB
    for (int check : new int[] {XZ.CHECK_NONE, XZ.CHECK_CRC32, XZ.CHECK_CRC64, XZ.CHECK_SHA256}) {
      assertArrayEquals(data, decode(xz(data, 1, check), 160L << 20), "check " + check);
    }
    assertArrayEquals(new byte[0], decode(xz(new byte[0], 1, XZ.CHECK_CRC64), 16 << 20));
  }

  @Test
  void concatenatedStreamsDecodeLikeXzDc() throws Exception {
    byte[] a = sample(100_000, 2);
    byte[] b = sample(50_000, 3);
    byte[] za = xz(a, 1, XZ.CHECK_CRC64);
    byte[] zb = xz(b, 1, XZ.CHECK_CRC64);
    byte[] both = Arrays.copyOf(za, za.length + zb.length);
    System.arraycopy(zb, 0, both, za.length, zb.length);
    byte[] want = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, want, a.length, b.length);
    assertArrayEquals(want, decode(both, 160L << 20));
  }

  @Test
  void truncatedFails() throws Exception {
    byte[] file = xz(sample(500_000, 4), 6, XZ.CHECK_CRC64);
    for (int len : new int[] {0, 5, file.length / 2, file.length - 1}) {
      CorruptCompressionException e =
          assertThrows(
              CorruptCompressionException.class,
              () -> decode(Arrays.copyOf(file, len), 160L << 20),
              "cut at " + len);
      assertTrue(e.getMessage().contains("t.xz"), e.getMessage());
    }
  }

  @Test
  void flippedByteFails() throws Exception {
    byte[] file = xz(sample(500_000, 5), 6, XZ.CHECK_CRC64);
    byte[] bad = file.clone();
    bad[bad.length / 2] ^= 0x40;
    assertThrows(CorruptCompressionException.class, () -> decode(bad, 160L << 20));
  }

  @Test
  void trailingGarbageAndNonXzFail() throws Exception {
    byte[] file = xz(sample(10_000, 6), 1, XZ.CHECK_CRC64);
    byte[] extended = Arrays.copyOf(file, file.length + 5);
    Arrays.fill(extended, file.length, extended.length, (byte) 'x');
    assertThrows(CorruptCompressionException.class, () -> decode(extended, 160L << 20));
    CorruptCompressionException e =
        assertThrows(
            CorruptCompressionException.class,
            () -> decode("this is not an xz file at all".getBytes(), 160L << 20));
    assertTrue(e.getMessage().contains("format"), e.getMessage());
  }

  @Test
  void memoryLimitRefusesAHugeDictionary() throws Exception {
    // Preset 9 asks for a 64 MiB dictionary: a 1 MiB limit refuses it before allocating.
    byte[] file = xz(sample(10_000, 7), 9, XZ.CHECK_CRC64);
    CorruptCompressionException e =
        assertThrows(CorruptCompressionException.class, () -> decode(file, 1 << 20));
    assertTrue(e.getMessage().contains("memory"), e.getMessage());
  }

  @Test
  void upstreamFailureIsReportedAsItIs() throws Exception {
    byte[] file = xz(sample(2 << 20, 8), 6, XZ.CHECK_CRC64);
    InputStream wrapped = new FailingUpstream(file, file.length / 3);
    try (InputStream in = Decompression.open("xz", wrapped, "t.xz")) {
      IOException e = assertThrows(IOException.class, in::readAllBytes);
      assertEquals("connection reset", e.getMessage());
    }
  }

  @Test
  void closeMidStreamEndsTheDecoderAndItsThread() throws Exception {
    byte[] file = xz(sample(4 << 20, 9), 6, XZ.CHECK_CRC64);
    LzmaInputStream direct =
        new LzmaInputStream(lib, new ByteArrayInputStream(file), 160L << 20, "t.xz");
    assertTrue(direct.read() >= 0);
    direct.close();
    direct.close(); // idempotent
    // The buffered output may still be served; decoding more must fail, never touch freed state.
    IOException e =
        assertThrows(IOException.class, () -> direct.readNBytes(new byte[8 << 20], 0, 8 << 20));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());

    ReadAheadThreads.assertEndOnEarlyClose("xz", file);
  }
}
