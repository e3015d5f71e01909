package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.sig.NixKeyring;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.Tiers;
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

  private static byte[] decodeWith(byte[] file, long memlimit, int threads) throws IOException {
    try (InputStream in =
        new LzmaInputStream(lib, new ByteArrayInputStream(file), memlimit, threads, "t.xz")) {
      return in.readAllBytes();
    }
  }

  /**
   * Decodes with the single-threaded and the multi-threaded decoder: both must give the same bytes,
   * or both fail with the same kind of error (the multi-threaded one is rethrown).
   */
  private static byte[] decode(byte[] file, long memlimit) throws IOException {
    byte[] one = null;
    byte[] mt = null;
    IOException e1 = null;
    IOException e2 = null;
    try {
      one = decodeWith(file, memlimit, 1);
    } catch (IOException e) {
      e1 = e;
    }
    try {
      mt = decodeWith(file, memlimit, 2);
    } catch (IOException e) {
      e2 = e;
    }
    if (e1 != null || e2 != null) {
      assertTrue(e1 != null && e2 != null, "decoders disagree: " + e1 + " / " + e2);
      assertEquals(e1.getClass(), e2.getClass(), e1 + " / " + e2);
      throw e2;
    }
    assertArrayEquals(one, mt);
    return mt;
  }

  /** {@code xz -T2 --block-size=SIZE -1}: several blocks that record their sizes, as xz -T does. */
  private static byte[] xzCli(byte[] data, String blockSize) throws Exception {
    Tiers.requireCommand("xz");
    Process p =
        new ProcessBuilder("xz", "-T2", "--block-size=" + blockSize, "-1", "-c")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    Thread feed =
        Thread.ofPlatform()
            .start(
                () -> {
                  try (var in = p.getOutputStream()) {
                    in.write(data);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
    byte[] out = p.getInputStream().readAllBytes();
    feed.join();
    assertEquals(0, p.waitFor());
    return out;
  }

  private static int threadsOfThisProcess() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Threads:")) {
        return Integer.parseInt(line.substring(8).trim());
      }
    }
    throw new AssertionError("no Threads: line in /proc/self/status");
  }

  @Test
  void multiBlockFilesDecodeOnSeveralThreads() throws Exception {
    assertTrue(LibLzma.mt().isPresent(), "liblzma 5.4 has lzma_stream_decoder_mt");
    byte[] data = sample(8 << 20, 10);
    byte[] file = xzCli(data, "1MiB");
    assertArrayEquals(data, decode(file, 160L << 20));
    // The workers exist while the stream is open: more threads than before it.
    int before = threadsOfThisProcess();
    try (InputStream in =
        new LzmaInputStream(lib, new ByteArrayInputStream(file), 160L << 20, 2, "t.xz")) {
      assertEquals(1 << 20, in.readNBytes(new byte[1 << 20], 0, 1 << 20));
      assertTrue(threadsOfThisProcess() > before, "no decoder threads started");
    }
    // Damage in a later block, and a cut, fail in both decoders alike.
    byte[] bad = file.clone();
    bad[bad.length * 3 / 4] ^= 0x40;
    assertThrows(CorruptCompressionException.class, () -> decode(bad, 160L << 20));
    assertThrows(
        CorruptCompressionException.class,
        () -> decode(Arrays.copyOf(file, file.length * 2 / 3), 160L << 20));
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
        new LzmaInputStream(lib, new ByteArrayInputStream(file), 160L << 20, 2, "t.xz");
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
