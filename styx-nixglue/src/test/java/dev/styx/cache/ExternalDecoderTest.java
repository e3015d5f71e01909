package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.sig.NixKeyring;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.Tiers;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * NARs decoded by {@code xz -dc} / {@code zstd -dc} child processes (the fallback for xz when
 * liblzma does not load), against real Nix caches: the same bytes as the in-process decoders, and
 * truncated, corrupt or abandoned streams fail or clean up instead of passing.
 */
class ExternalDecoderTest {
  @TempDir Path tmp;

  // xz is decoded by liblzma in process by default (LzmaDecoderTest); these tests are the child's.
  @org.junit.jupiter.api.BeforeEach
  void useTheChildForXz() {
    System.setProperty(Decompression.LIBLZMA_PROPERTY, "false");
  }

  @org.junit.jupiter.api.AfterEach
  void restore() {
    System.clearProperty(Decompression.LIBLZMA_PROPERTY);
  }

  private static byte[] readAll(BinaryCacheClient c, NarInfo ni) throws IOException {
    try (InputStream in = c.openNar(ni)) {
      return in.readAllBytes();
    }
  }

  private static BinaryCacheClient client(NixCacheFixture fx, Path cache) {
    return BinaryCacheClient.builder("file://" + cache)
        .trustedKeys(NixKeyring.parse(fx.publicKey()))
        .build();
  }

  @ParameterizedTest
  @ValueSource(strings = {"xz", "zstd"})
  void childDecoderMatchesInProcessDecoder(String compression) throws Exception {
    Tiers.requireCommand(compression);
    NixCacheFixture fx = NixCacheFixture.shared();
    assertTrue(Decompression.externalCommand(compression).isPresent());
    try (BinaryCacheClient c = client(fx, fx.cacheDir(compression))) {
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      byte[] viaChild = readAll(c, ni);
      byte[] inProcess;
      System.setProperty(Decompression.EXTERNAL_PROPERTY, "false");
      try {
        assertTrue(Decompression.externalCommand(compression).isEmpty());
        inProcess = readAll(c, ni);
      } finally {
        System.clearProperty(Decompression.EXTERNAL_PROPERTY);
      }
      assertEquals(ni.narSize(), viaChild.length);
      assertArrayEquals(inProcess, viaChild);
      NixHash h =
          new NixHash(
              ni.narHash().algorithm(), ni.narHash().algorithm().newDigest().digest(viaChild));
      assertEquals(ni.narHash(), h);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"xz", "zstd"})
  void truncatedFileFailsInTheDecoder(String compression) throws Exception {
    Tiers.requireCommand(compression);
    NixCacheFixture fx = NixCacheFixture.shared();
    byte[] file = compressedNar(fx, compression);
    byte[] cut = Arrays.copyOf(file, file.length / 2);
    try (InputStream in =
        Decompression.open(compression, new ByteArrayInputStream(cut), "test.nar." + compression)) {
      CorruptCompressionException e =
          assertThrows(CorruptCompressionException.class, in::readAllBytes);
      assertTrue(e.getMessage().contains("exit status"), e.getMessage());
      assertTrue(e.getMessage().contains("test.nar." + compression), e.getMessage());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"xz", "zstd"})
  void inProcessFallbackFailsOnTruncationAndStopsItsThreadOnClose(String compression)
      throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    byte[] file = compressedNar(fx, compression);
    System.setProperty(Decompression.EXTERNAL_PROPERTY, "false");
    try {
      byte[] cut = Arrays.copyOf(file, file.length / 2);
      try (InputStream in = Decompression.open(compression, new ByteArrayInputStream(cut), "t")) {
        IOException e = assertThrows(IOException.class, in::readAllBytes);
        // The same failure again, not a different one, if the caller reads on.
        assertEquals(e, assertThrows(IOException.class, in::read));
      }
      ReadAheadThreads.assertEndOnEarlyClose(compression, file);
    } finally {
      System.clearProperty(Decompression.EXTERNAL_PROPERTY);
    }
  }

  @Test
  void garbageAfterTheStreamFails() throws Exception {
    Tiers.requireCommand("xz");
    NixCacheFixture fx = NixCacheFixture.shared();
    byte[] file = compressedNar(fx, "xz");
    byte[] extended = Arrays.copyOf(file, file.length + 5);
    Arrays.fill(extended, file.length, extended.length, (byte) 'x');
    try (InputStream in = Decompression.open("xz", new ByteArrayInputStream(extended), "t.xz")) {
      assertThrows(CorruptCompressionException.class, in::readAllBytes);
    }
  }

  @Test
  void notCompressedAtAllFails() throws Exception {
    Tiers.requireCommand("xz");
    byte[] junk = "this is not an xz file at all, just text".getBytes();
    try (InputStream in = Decompression.open("xz", new ByteArrayInputStream(junk), "junk.xz")) {
      CorruptCompressionException e =
          assertThrows(CorruptCompressionException.class, in::readAllBytes);
      assertTrue(e.getMessage().contains("junk.xz"), e.getMessage());
    }
  }

  @Test
  void closingEarlyKillsTheChild() throws Exception {
    Tiers.requireCommand("xz");
    // 64 MiB of output: the child blocks on the full pipe and is alive when looked at. (The small
    // fixture NAR fit in the pipe buffer: xz could finish and exit before the check, a flake.)
    java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
    try (org.tukaani.xz.XZOutputStream x =
        new org.tukaani.xz.XZOutputStream(z, new org.tukaani.xz.LZMA2Options(0))) {
      byte[] line = "a line of a large, very compressible file\n".repeat(1000).getBytes();
      for (int i = 0; i < (64 << 20) / line.length; i++) {
        x.write(line);
      }
    }
    byte[] file = z.toByteArray();
    InputStream in = Decompression.open("xz", new ByteArrayInputStream(file), "t.xz");
    assertTrue(in.read() >= 0);
    List<ProcessHandle> kids = ProcessHandle.current().children().toList();
    assertTrue(
        kids.stream().anyMatch(p -> p.info().command().orElse("").endsWith("xz")),
        "an xz child runs: " + kids);
    in.close();
    for (ProcessHandle k : kids) {
      if (k.info().command().orElse("").endsWith("xz")) {
        k.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertFalse(k.isAlive());
      }
    }
  }

  @Test
  void upstreamReadErrorIsReportedAsSuch() throws Exception {
    Tiers.requireCommand("xz");
    NixCacheFixture fx = NixCacheFixture.shared();
    byte[] file = compressedNar(fx, "xz");
    InputStream wrapped = new FailingUpstream(file, file.length / 3);
    try (InputStream in = Decompression.open("xz", wrapped, "t.xz")) {
      IOException e = assertThrows(IOException.class, in::readAllBytes);
      assertEquals("connection reset", e.getMessage());
    }
  }

  private static byte[] compressedNar(NixCacheFixture fx, String compression) throws Exception {
    Path cache = fx.cacheDir(compression);
    try (BinaryCacheClient c = client(fx, cache)) {
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      return Files.readAllBytes(cache.resolve(ni.url()));
    }
  }
}
