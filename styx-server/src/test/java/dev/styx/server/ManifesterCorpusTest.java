package dev.styx.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.manifest.ChunkStreamFetcher;
import dev.styx.manifest.ChunkedManifest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestClient;
import dev.styx.manifest.ManifestNarWriter;
import dev.styx.manifest.ManifestObject;
import dev.styx.manifest.SignedManifest;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.PythonHttpServer;
import dev.styx.testing.StaticHttpServer;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance on a real corpus (>= 20 store paths incl. a JDK, xz and zstd caches made by Nix,
 * served over loopback by a static server): every manifest, rebuilt into a NAR from its chunks,
 * hashes to the narinfo's NarHash; the store directory works as a static chunk/manifest server; 32
 * concurrent requests for 8 paths ingest each path once.
 */
class ManifesterCorpusTest {
  static NixCorpus corpus;
  static final NixSecretKey SIGNER = NixSecretKey.generate("styx-manifester-test-1");

  @TempDir Path tmp;

  @BeforeAll
  static void build() throws Exception {
    corpus = NixCorpus.get();
    assertTrue(corpus.paths.size() >= 20, "corpus has " + corpus.paths.size() + " paths");
  }

  /** NarHash of the NAR rebuilt from a manifest and the chunks at {@code chunks}. */
  static NixHash rebuiltNarHash(Manifest m, URI chunks) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long[] n = {0};
    OutputStream out =
        new OutputStream() {
          @Override
          public void write(int b) {
            md.update((byte) b);
            n[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            md.update(b, off, len);
            n[0] += len;
          }
        };
    try (ChunkStreamFetcher f = new ChunkStreamFetcher(chunks, m, 4)) {
      ManifestNarWriter.write(m, f, out);
    }
    assertEquals(m.narSize(), n[0], "rebuilt NAR size of " + m.storePath());
    return NixHash.sha256(md.digest());
  }

  static NarInfo narinfo(Path cache, StorePath p) throws Exception {
    return NarInfo.parse(Files.readString(cache.resolve(p.hashPart() + ".narinfo")));
  }

  /**
   * The other compressions Debian's Nix writes (and reads back): each cache, served over loopback,
   * ingests and rebuilds to the narinfo's NarHash for every path of the small fixture (a generated
   * tree, a single file, a dangling symlink, a path with a reference).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"none", "bzip2", "gzip", "br", "lz4", "lzma", "lzip", "compress"})
  void everyOtherNixCompressionRebuildsToItsNarHash(String compression) throws Exception {
    dev.styx.testing.NixCacheFixture fx = dev.styx.testing.NixCacheFixture.shared();
    Path cache = fx.cacheDirFor(compression);
    try (StaticHttpServer up = new StaticHttpServer(cache);
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(up.url()), fx.publicKey());
        ManifestClient client =
            new ManifestClient(
                URI.create(s.url()), NixKeyring.of(SIGNER.publicKey()), Duration.ofMinutes(2), 3)) {
      List<StorePath> paths = fx.storePaths();
      assertTrue(paths.size() >= 4, "fixture paths: " + paths);
      for (StorePath p : paths) {
        NarInfo ni = narinfo(cache, p);
        assertEquals(compression, ni.compression());
        Manifest m = client.request(up.url(), p.toString()).manifest();
        assertEquals(ni.narHash(), rebuiltNarHash(m, URI.create(s.url())), p.toString());
      }
      assertEquals(paths.size(), s.metrics().ingests());
    }
  }

  @Test
  void everyPathRebuildsToItsNarHashFromXzAndZstdCaches() throws Exception {
    try (StaticHttpServer xz = new StaticHttpServer(corpus.cache("xz"));
        StaticHttpServer zstd = new StaticHttpServer(corpus.cache("zstd"));
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(xz.url(), zstd.url()), corpus.publicKey);
        ManifestClient client =
            new ManifestClient(
                URI.create(s.url()), NixKeyring.of(SIGNER.publicKey()), Duration.ofMinutes(5), 3)) {
      int checked = 0;
      for (StaticHttpServer up : List.of(xz, zstd)) {
        Path cache = up == xz ? corpus.cache("xz") : corpus.cache("zstd");
        for (StorePath p : corpus.paths) {
          ManifestClient.Fetched f = client.request(up.url(), p.toString());
          NarInfo ni = narinfo(cache, p);
          assertEquals(p.toString(), f.manifest().storePath());
          assertEquals(ni.narHash().toNix32String(), f.manifest().narHash());
          assertEquals(
              ni.references().stream().map(StorePath::baseName).toList(),
              f.manifest().references());
          assertEquals(
              ni.narHash(), rebuiltNarHash(f.manifest(), URI.create(s.url())), p.toString());
          checked++;
        }
      }
      assertEquals(2 * corpus.paths.size(), checked);
      assertEquals(2 * corpus.paths.size(), s.metrics().ingests());
      assertTrue(
          s.metrics().chunksExisting.sum() >= s.metrics().chunksNew(),
          "the second cache's chunks were already stored (content addressing)");

      // The JDK's manifest (~78 KB encoded) is stored as chunks behind a small envelope; the
      // client above joined it from the manifester's chunks and checked the signature.
      ManifestClient.Fetched jdk = client.request(zstd.url(), corpus.jdk().toString());
      byte[] jdkObject = Files.readAllBytes(s.store().manifestPath(jdk.key()));
      ChunkedManifest cm =
          assertInstanceOf(ChunkedManifest.class, ManifestObject.decode(jdkObject));
      assertTrue(jdkObject.length < 1024, "envelope of " + jdkObject.length + " bytes");
      assertTrue(cm.digests().size() >= 2, cm.digests().size() + " manifest chunks");
      for (var d : cm.digests()) {
        assertTrue(s.store().hasChunk(d), "manifest chunk " + d.hex() + " stored");
      }
      assertEquals(cm.size(), jdk.signed().size());
      String small = client.request(zstd.url(), corpus.paths.getLast().toString()).key();
      assertTrue(
          ManifestObject.decode(Files.readAllBytes(s.store().manifestPath(small)))
              instanceof SignedManifest,
          "a small manifest stays inline");

      // A second request is a cache hit with the same bytes.
      ManifestClient.Fetched again = client.request(zstd.url(), corpus.jdk().toString());
      assertEquals(2 * corpus.paths.size(), s.metrics().ingests());
      assertTrue(s.metrics().manifestCacheHits() >= 1);

      // The store directory alone, served by a plain static server, is a complete chunk store and
      // manifest cache (single GETs, no batch route).
      try (StaticHttpServer stat = new StaticHttpServer(s.store().root());
          ManifestClient statClient =
              new ManifestClient(
                  stat.uri(), NixKeyring.of(SIGNER.publicKey()), Duration.ofMinutes(1), 1)) {
        for (StorePath p : List.of(corpus.jdk(), corpus.paths.get(corpus.paths.size() - 4))) {
          ManifestClient.Fetched f = statClient.cached(zstd.url(), p.toString()).orElseThrow();
          assertArrayEquals(Files.readAllBytes(s.store().manifestPath(f.key())), f.object());
          assertEquals(
              narinfo(corpus.cache("zstd"), p).narHash(), rebuiltNarHash(f.manifest(), stat.uri()));
        }
        assertTrue(
            statClient.cached(zstd.url(), "/nix/store/" + "2".repeat(32) + "-absent").isEmpty());
      }
      // And served by `python3 -m http.server`, as the docs suggest: HTTP/1.0, every connection
      // closed after one answer. The JDK client sometimes reuses such a connection for the next
      // GET and must retry it (before the fix, 5 of 6 rebuilds of a 1,500-chunk path failed).
      try (PythonHttpServer py = new PythonHttpServer(s.store().root())) {
        for (StorePath p : corpus.paths) {
          Manifest m = client.cached(zstd.url(), p.toString()).orElseThrow().manifest();
          assertEquals(
              narinfo(corpus.cache("zstd"), p).narHash(),
              rebuiltNarHash(m, py.uri()),
              p.toString());
        }
      }
      assertArrayEquals(
          again.object(),
          client.cached(zstd.url(), corpus.jdk().toString()).orElseThrow().object());
      String metrics = new String(ServerTestSupport.get(s.url() + "/metrics").body());
      assertTrue(metrics.contains("styx_ingests_total " + 2 * corpus.paths.size()), metrics);
      assertTrue(metrics.contains("styx_manifests_chunked_total 2"), "the JDK's, from each cache");
      assertTrue(
          metrics.contains(
              "styx_http_requests_total{route=\"/chunks\",method=\"POST\",status=\"200\"}"),
          metrics);
      assertEquals("ok\n", new String(ServerTestSupport.get(s.url() + "/healthz").body()));

      // An operator prunes a chunk of the JDK's manifest: the cached envelope is not served
      // broken; the path is ingested again, which writes the chunk back.
      Files.delete(s.store().chunkPath(cm.digests().getLast()));
      long ingests = s.metrics().ingests();
      ManifestClient.Fetched rebuilt = client.request(zstd.url(), corpus.jdk().toString());
      assertEquals(ingests + 1, s.metrics().ingests());
      assertTrue(s.store().hasChunk(cm.digests().getLast()));
      assertEquals(jdk.manifest(), rebuilt.manifest());
      // So is a cached object that does not decode.
      Files.write(s.store().manifestPath(small), new byte[] {1, 2, 3});
      assertEquals(
          corpus.paths.getLast().toString(),
          client.request(zstd.url(), corpus.paths.getLast().toString()).manifest().storePath());
      assertEquals(ingests + 2, s.metrics().ingests());
    }
  }

  @Test
  void concurrentRequestsForTheSamePathsIngestEachOnce() throws Exception {
    List<StorePath> eight = corpus.paths.subList(corpus.paths.size() - 8, corpus.paths.size());
    try (StaticHttpServer zstd = new StaticHttpServer(corpus.cache("zstd"));
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(zstd.url()), corpus.publicKey);
        ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<byte[]>>> fs = new ArrayList<>();
      List<StorePath> asked = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        StorePath p = eight.get(i % 8);
        asked.add(p);
        fs.add(ex.submit(() -> ServerTestSupport.requestManifest(s, zstd.url(), p.toString())));
      }
      Map<StorePath, byte[]> bodies = new HashMap<>();
      for (int i = 0; i < fs.size(); i++) {
        HttpResponse<byte[]> r = fs.get(i).get();
        assertEquals(200, r.statusCode(), new String(r.body()));
        byte[] prev = bodies.putIfAbsent(asked.get(i), r.body());
        if (prev != null) {
          assertArrayEquals(prev, r.body(), "every request for a path gets the same manifest");
        }
      }
      assertEquals(8, s.metrics().ingests(), "each path ingested once");
      assertEquals(8, ServerTestSupport.count(s.store().root().resolve("manifest")));
      assertEquals(
          32, s.metrics().ingests() + s.metrics().coalesced() + s.metrics().manifestCacheHits());
      for (StorePath p : eight) {
        var m =
            dev.styx.manifest.ManifestObject.unwrap(bodies.get(p))
                .verify(NixKeyring.of(SIGNER.publicKey()));
        assertEquals(
            narinfo(corpus.cache("zstd"), p).narHash(), rebuiltNarHash(m, URI.create(s.url())));
      }
    }
  }
}
