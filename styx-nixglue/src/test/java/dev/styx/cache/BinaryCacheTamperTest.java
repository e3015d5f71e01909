package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.StaticHttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tampered caches (narinfo fields, keys, NAR bytes) and transport faults against real Nix output.
 */
class BinaryCacheTamperTest {
  @TempDir Path tmp;

  private NixCacheFixture fx;

  private Path copyCache(String compression) throws Exception {
    fx = NixCacheFixture.shared();
    Path src = fx.cacheDirFor(compression);
    Path dst = tmp.resolve("cache-" + compression);
    Files.walkFileTree(
        src,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a)
              throws IOException {
            Files.createDirectories(dst.resolve(src.relativize(d)));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
            Files.copy(f, dst.resolve(src.relativize(f)));
            return FileVisitResult.CONTINUE;
          }
        });
    return dst;
  }

  private BinaryCacheClient client(Path cache, boolean requireSigs) {
    return BinaryCacheClient.builder("file://" + cache)
        .trustedKeys(NixKeyring.parse(fx.publicKey()))
        .requireSignatures(requireSigs)
        .build();
  }

  private static Path narinfoFile(Path cache, StorePath p) {
    return cache.resolve(p.hashPart() + ".narinfo");
  }

  private static void edit(Path file, String from, String to) throws IOException {
    String s = Files.readString(file);
    assertTrue(s.contains(from), "narinfo lacks " + from);
    Files.writeString(file, s.replace(from, to));
  }

  @Test
  void untouchedCopyVerifies() throws Exception {
    Path cache = copyCache("xz");
    try (BinaryCacheClient c = client(cache, true)) {
      NarInfo ni = c.narInfo(fx.withReference()).orElseThrow();
      assertEquals(List.of(fx.tree()), ni.references());
      try (InputStream in = c.openNar(ni)) {
        assertEquals(ni.narSize(), in.readAllBytes().length);
      }
    }
  }

  @Test
  void changedNarHashIsRejected() throws Exception {
    Path cache = copyCache("xz");
    StorePath p = fx.withReference();
    Path f = narinfoFile(cache, p);
    NarInfo orig = NarInfo.parse(Files.readString(f));
    byte[] h = orig.narHash().bytes();
    h[0] ^= 1;
    String forged = NixHash.sha256(h).toNix32String();
    edit(f, "NarHash: " + orig.narHash(), "NarHash: " + forged);
    try (BinaryCacheClient c = client(cache, true)) {
      UntrustedNarInfoException e =
          assertThrows(UntrustedNarInfoException.class, () -> c.narInfo(p));
      assertTrue(e.getMessage().contains(p.hashPart() + ".narinfo"), e.getMessage());
    }
    // Even without signature checking, the NAR itself does not match the forged hash.
    try (BinaryCacheClient c = client(cache, false)) {
      NarInfo ni = c.narInfo(p).orElseThrow();
      NarIntegrityException e =
          assertThrows(
              NarIntegrityException.class,
              () -> {
                try (InputStream in = c.openNar(ni)) {
                  in.readAllBytes();
                }
              });
      assertTrue(e.getMessage().contains("NarHash"), e.getMessage());
    }
  }

  @Test
  void changedReferencesAreRejected() throws Exception {
    Path cache = copyCache("xz");
    StorePath p = fx.withReference();
    Path f = narinfoFile(cache, p);
    edit(f, "References: " + fx.tree().baseName(), "References: " + fx.singleFile().baseName());
    try (BinaryCacheClient c = client(cache, true)) {
      assertThrows(UntrustedNarInfoException.class, () -> c.narInfo(p));
    }
    // Dropping the reference entirely is also caught.
    edit(f, "References: " + fx.singleFile().baseName(), "References: ");
    try (BinaryCacheClient c = client(cache, true)) {
      assertThrows(UntrustedNarInfoException.class, () -> c.narInfo(p));
    }
  }

  @Test
  void signatureByAnotherKeyIsRejected() throws Exception {
    Path cache = copyCache("zstd");
    StorePath p = fx.tree();
    Path f = narinfoFile(cache, p);
    NarInfo orig = NarInfo.parse(Files.readString(f));
    NixSecretKey other = NixSecretKey.generate("other-key");
    NarInfo resigned =
        new NarInfo(
                orig.storePath(),
                orig.url(),
                orig.compression(),
                orig.fileHash(),
                orig.fileSize(),
                orig.narHash(),
                orig.narSize(),
                orig.references(),
                orig.deriver(),
                orig.system(),
                List.of(),
                orig.ca(),
                orig.extra())
            .withSignature(other);
    Files.writeString(f, resigned.serialize());
    try (BinaryCacheClient c = client(cache, true)) {
      assertThrows(UntrustedNarInfoException.class, () -> c.narInfo(p));
    }
    // A key that claims the trusted name but is a different key pair.
    NixSecretKey impostor = NixSecretKey.generate(fx.keyName());
    Files.writeString(
        f, resigned.withSignature(impostor).serialize().replaceAll("Sig: other-key:.*\n", ""));
    try (BinaryCacheClient c = client(cache, true)) {
      assertThrows(UntrustedNarInfoException.class, () -> c.narInfo(p));
    }
    // Trusting the other key makes the same narinfo acceptable: the check is real.
    Files.writeString(f, resigned.serialize());
    try (BinaryCacheClient c =
        BinaryCacheClient.builder("file://" + cache)
            .trustedKeys(NixKeyring.of(other.publicKey()))
            .build()) {
      assertEquals(orig.narHash(), c.narInfo(p).orElseThrow().narHash());
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"none", "xz", "zstd", "bzip2", "gzip", "br", "lz4", "lzma", "lzip", "compress"})
  void flippedNarByteIsRejected(String compression) throws Exception {
    Path cache = copyCache(compression);
    StorePath p = fx.tree();
    try (BinaryCacheClient c = client(cache, true)) {
      NarInfo ni = c.narInfo(p).orElseThrow();
      Path nar = cache.resolve(ni.url());
      byte[] b = Files.readAllBytes(nar);
      b[b.length / 2] ^= 0x01;
      Files.write(nar, b);
      IOException e =
          assertThrows(
              IOException.class,
              () -> {
                try (InputStream in = c.openNar(ni)) {
                  in.readAllBytes();
                }
              });
      if (compression.equals("none")) {
        assertTrue(e instanceof NarIntegrityException, e.toString());
        assertTrue(e.getMessage().contains(ni.url()), e.getMessage());
      }
    }
  }

  /**
   * Every decoder, given the first half of a real file, fails with an error naming the file instead
   * of ending quietly or throwing a bare library message.
   */
  @ParameterizedTest
  @ValueSource(strings = {"xz", "zstd", "bzip2", "gzip", "br", "lz4", "lzma", "lzip", "compress"})
  void truncatedCompressedFileIsRejected(String compression) throws Exception {
    Path cache = copyCache(compression);
    try (BinaryCacheClient c = client(cache, true)) {
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      Path nar = cache.resolve(ni.url());
      byte[] b = Files.readAllBytes(nar);
      Files.write(nar, java.util.Arrays.copyOf(b, b.length / 2));
      IOException e = assertThrows(IOException.class, () -> readAll(c, ni));
      // The error names the file, whichever layer noticed (decoder, FileSize, FileHash).
      assertTrue(e.getMessage() != null && e.getMessage().contains(ni.url()), e.toString());
    }
  }

  @Test
  void unsupportedCompressionIsNamed() throws Exception {
    Path cache = copyCache("xz");
    StorePath p = fx.tree();
    // Compression is not part of the signed fingerprint: the narinfo still verifies.
    edit(narinfoFile(cache, p), "Compression: xz", "Compression: lzop");
    try (BinaryCacheClient c = client(cache, true)) {
      NarInfo ni = c.narInfo(p).orElseThrow();
      IOException e = assertThrows(IOException.class, () -> readAll(c, ni));
      assertTrue(e.getMessage().contains("unsupported NAR compression 'lzop'"), e.getMessage());
      assertTrue(e.getMessage().contains("lzip"), "lists what is supported: " + e.getMessage());
    }
  }

  @Test
  void truncatedAndExtendedFilesAreRejected() throws Exception {
    Path cache = copyCache("none");
    StorePath p = fx.singleFile();
    try (BinaryCacheClient c = client(cache, true)) {
      NarInfo ni = c.narInfo(p).orElseThrow();
      Path nar = cache.resolve(ni.url());
      byte[] b = Files.readAllBytes(nar);
      Files.write(nar, java.util.Arrays.copyOf(b, b.length - 8));
      assertThrows(NarIntegrityException.class, () -> readAll(c, ni));
      Files.write(nar, java.util.Arrays.copyOf(b, b.length + 8));
      assertThrows(NarIntegrityException.class, () -> readAll(c, ni));
      Files.write(nar, b);
      assertArrayEquals(b, readAll(c, ni));
    }
  }

  private static byte[] readAll(BinaryCacheClient c, NarInfo ni) throws IOException {
    try (InputStream in = c.openNar(ni)) {
      return in.readAllBytes();
    }
  }

  @Test
  void transientHttpErrorsAreRetried() throws Exception {
    fx = NixCacheFixture.shared();
    try (StaticHttpServer s = fx.newServer("xz");
        BinaryCacheClient c =
            BinaryCacheClient.builder(s.url())
                .trustedKeys(NixKeyring.parse(fx.publicKey()))
                .initialBackoff(Duration.ofMillis(10))
                .maxAttempts(3)
                .build()) {
      s.failNext(2, 503);
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      assertEquals(3, s.requestCount());
      s.failNext(2, 500);
      assertEquals(ni.narSize(), readAll(c, ni).length);
      s.failNext(3, 503);
      BinaryCacheException e =
          assertThrows(BinaryCacheException.class, () -> c.narInfo(fx.singleFile()));
      assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
      assertTrue(e.getMessage().contains(s.url()), e.getMessage());
      assertTrue(e.getMessage().contains("3 attempts"), e.getMessage());
      int before = s.requestCount();
      s.failNext(1, 401);
      assertThrows(BinaryCacheException.class, () -> c.narInfo(fx.singleFile()));
      assertEquals(before + 1, s.requestCount(), "a 401 must not be retried");
      assertTrue(c.narInfo("00000000000000000000000000000000").isEmpty());
    }
  }

  @Test
  void stalledBodyTimesOut() throws Exception {
    fx = NixCacheFixture.shared();
    try (StaticHttpServer s = fx.newServer("none");
        BinaryCacheClient c =
            BinaryCacheClient.builder(s.url())
                .trustedKeys(NixKeyring.parse(fx.publicKey()))
                .requestTimeout(Duration.ofMillis(400))
                .build()) {
      NarInfo ni = c.narInfo(fx.tree()).orElseThrow();
      s.stallNext(1, 1000, 5000);
      long t0 = System.nanoTime();
      BinaryCacheException e = assertThrows(BinaryCacheException.class, () -> readAll(c, ni));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(e.getMessage().contains("no data for 400 ms"), e.getMessage());
      assertTrue(ms < 3000, "took " + ms + " ms");
      // A stall shorter than the timeout is fine.
      s.stallNext(1, 1000, 100);
      assertEquals(ni.narSize(), readAll(c, ni).length);
    }
  }

  @Test
  void unreachableServerFailsClearly() throws Exception {
    int port;
    try (java.net.ServerSocket ss =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = ss.getLocalPort();
    }
    List<String> msgs = new ArrayList<>();
    try (BinaryCacheClient c =
        BinaryCacheClient.builder("http://127.0.0.1:" + port)
            .requireSignatures(false)
            .initialBackoff(Duration.ofMillis(5))
            .maxAttempts(2)
            .build()) {
      BinaryCacheException e =
          assertThrows(
              BinaryCacheException.class, () -> c.narInfo("00000000000000000000000000000000"));
      msgs.add(e.getMessage());
    }
    assertTrue(msgs.get(0).contains("127.0.0.1:" + port), msgs.get(0));
    assertTrue(msgs.get(0).contains("2 attempts"), msgs.get(0));
  }
}
