package dev.styx.server;

import static dev.styx.server.ServerTestSupport.count;
import static dev.styx.server.ServerTestSupport.json;
import static dev.styx.server.ServerTestSupport.requestManifest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.StaticHttpServer;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way an upstream can be wrong gives a JSON error with a status that says whether to retry,
 * leaves no manifest in the cache and no temp file behind; real Nix-made caches, tampered on disk.
 */
class ManifesterFaultTest {
  static NixCacheFixture fx;
  static final NixSecretKey SIGNER = NixSecretKey.generate("styx-manifester-test-1");

  @TempDir Path tmp;

  @BeforeAll
  static void fixture() throws Exception {
    fx = NixCacheFixture.shared();
  }

  /** Posts a request and checks the error shape and the store's emptiness. */
  private JsonNode expectError(
      ManifesterServer s, String upstream, String storePath, int status, String code, boolean retry)
      throws Exception {
    HttpResponse<byte[]> r = requestManifest(s, upstream, storePath);
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertEquals(status, r.statusCode(), body);
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    JsonNode j = json(r);
    assertEquals(code, j.path("code").asText(), body);
    assertEquals(status, j.path("status").asInt());
    assertEquals(retry, j.path("retry").asBoolean(), body);
    assertTrue(j.path("error").asText().length() > 10, body);
    assertEquals(0, count(s.store().root().resolve("manifest")), "nothing in the manifest cache");
    assertEquals(0, count(s.store().tmpDir()), "no temp file left");
    return j;
  }

  private Path copyCache(String compression) throws Exception {
    Path c = tmp.resolve("cache-" + compression + "-" + System.nanoTime());
    ServerTestSupport.copyTree(fx.cacheDir(compression), c);
    return c;
  }

  private static Path narinfo(Path cache, StorePath p) {
    return cache.resolve(p.hashPart() + ".narinfo");
  }

  @Test
  void wrongUpstreamKeyIsUntrusted() throws Exception {
    String otherKey = NixSecretKey.generate(fx.keyName()).publicKey().toString();
    String up = fx.http("xz");
    try (ManifesterServer s =
        ServerTestSupport.start(tmp.resolve("store"), SIGNER, List.of(up), otherKey)) {
      JsonNode j = expectError(s, up, fx.tree().toString(), 422, "upstream-untrusted", false);
      assertTrue(j.path("error").asText().contains("trusted"), j.toString());
    }
  }

  @Test
  void tamperedNarHashFailsTheSignature() throws Exception {
    Path cache = copyCache("xz");
    Path f = narinfo(cache, fx.tree());
    NarInfo ni = NarInfo.parse(Files.readString(f));
    byte[] h = ni.narHash().bytes();
    h[0] ^= 1;
    String forged = NixHash.sha256(h).toNix32String();
    Files.writeString(f, Files.readString(f).replace(ni.narHash().toNix32String(), forged));
    try (StaticHttpServer up = new StaticHttpServer(cache);
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(up.url()), fx.publicKey())) {
      expectError(s, up.url(), fx.tree().toString(), 422, "upstream-untrusted", false);
    }
  }

  @Test
  void tamperedNarHashResignedByTheTrustedKeyFailsTheNarCheck() throws Exception {
    Path cache = copyCache("zstd");
    Path f = narinfo(cache, fx.tree());
    NarInfo ni = NarInfo.parse(Files.readString(f));
    byte[] h = ni.narHash().bytes();
    h[5] ^= 0x40;
    NarInfo forged =
        new NarInfo(
                ni.storePath(),
                ni.url(),
                ni.compression(),
                ni.fileHash(),
                ni.fileSize(),
                NixHash.sha256(h),
                ni.narSize(),
                ni.references(),
                ni.deriver(),
                ni.system(),
                List.of(),
                ni.ca(),
                ni.extra())
            .withSignature(NixSecretKey.parse(Files.readString(fx.secretKeyFile()).trim()));
    Files.writeString(f, forged.serialize());
    try (StaticHttpServer up = new StaticHttpServer(cache);
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(up.url()), fx.publicKey())) {
      JsonNode j = expectError(s, up.url(), fx.tree().toString(), 422, "nar-integrity", false);
      assertTrue(j.path("error").asText().contains("NarHash"), j.toString());
    }
  }

  /**
   * A full disk under the manifester's store (a real tmpfs too small for the path's chunks): 507
   * store-full naming the store as the culprit, not the upstream; no manifest, no temp file, and
   * the chunks already written are whole. Once there is room, the same request succeeds and the
   * manifest rebuilds to the NarHash.
   */
  @Test
  void fullStoreIsA507AndLosesNothing() throws Exception {
    dev.styx.testing.Tiers.requireRoot();
    Path mnt = Files.createDirectories(tmp.resolve("small"));
    dev.styx.testing.Tiers.run(
        null, "mount", "-t", "tmpfs", "-o", "size=32k", "styx-test-full", mnt.toString());
    try (StaticHttpServer up = fx.newServer("xz");
        ManifesterServer s =
            ServerTestSupport.start(mnt, SIGNER, List.of(up.url()), fx.publicKey())) {
      JsonNode j = expectError(s, up.url(), fx.tree().toString(), 507, "store-full", false);
      String error = j.path("error").asText();
      assertTrue(error.contains("manifester's store") && error.contains("No space"), error);
      try (var chunks = Files.list(s.store().root().resolve("chunk"))) {
        for (Path c : chunks.toList()) {
          byte[] data =
              s.store()
                  .readChunk(dev.styx.chunk.ChunkDigest.parseHex(c.getFileName().toString()))
                  .orElseThrow();
          assertEquals(c.getFileName().toString(), dev.styx.chunk.ChunkDigest.of(data).hex());
        }
      }
      dev.styx.testing.Tiers.run(null, "mount", "-o", "remount,size=64m", mnt.toString());
      try (dev.styx.manifest.ManifestClient client =
          new dev.styx.manifest.ManifestClient(
              java.net.URI.create(s.url()),
              dev.styx.sig.NixKeyring.of(SIGNER.publicKey()),
              java.time.Duration.ofMinutes(1),
              3)) {
        var m = client.request(up.url(), fx.tree().toString()).manifest();
        NarInfo ni = NarInfo.parse(Files.readString(narinfo(fx.cacheDir("xz"), fx.tree())));
        assertEquals(
            ni.narHash(), ManifesterCorpusTest.rebuiltNarHash(m, java.net.URI.create(s.url())));
      }
      assertEquals(1, count(s.store().root().resolve("manifest")));
      assertEquals(0, count(s.store().tmpDir()));
    } finally {
      dev.styx.testing.Tiers.run(null, "umount", mnt.toString());
    }
  }

  @Test
  void unsupportedCompressionIsA422() throws Exception {
    Path cache = copyCache("xz");
    Path info = narinfo(cache, fx.tree());
    // Compression is not in the signed fingerprint: the narinfo still verifies.
    Files.writeString(info, Files.readString(info).replace("Compression: xz", "Compression: lzop"));
    try (StaticHttpServer up = new StaticHttpServer(cache);
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(up.url()), fx.publicKey())) {
      JsonNode j =
          expectError(s, up.url(), fx.tree().toString(), 422, "unsupported-compression", false);
      assertTrue(j.path("error").asText().contains("'lzop'"), j.toString());
    }
  }

  @Test
  void flippedNarByteFailsTheHashCheck() throws Exception {
    for (String c : List.of("none", "xz")) {
      Path cache = copyCache(c);
      NarInfo ni = NarInfo.parse(Files.readString(narinfo(cache, fx.tree())));
      Path nar = cache.resolve(ni.url());
      byte[] b = Files.readAllBytes(nar);
      b[b.length / 2] ^= 0x01;
      Files.write(nar, b);
      try (StaticHttpServer up = new StaticHttpServer(cache);
          ManifesterServer s =
              ServerTestSupport.start(
                  tmp.resolve("store-" + c), SIGNER, List.of(up.url()), fx.publicKey())) {
        HttpResponse<byte[]> r = requestManifest(s, up.url(), fx.tree().toString());
        // A flipped byte in an xz stream may break the container before the hash check.
        String code = json(r).path("code").asText();
        assertEquals(422, r.statusCode(), new String(r.body()));
        assertTrue(code.equals("nar-integrity") || code.equals("bad-nar"), code);
        assertEquals(0, count(s.store().root().resolve("manifest")));
        assertEquals(0, count(s.store().tmpDir()));
      }
    }
  }

  @Test
  void missingPathUnknownUpstreamBadRequestsAndTransientErrors() throws Exception {
    try (StaticHttpServer up = fx.newServer("xz");
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), SIGNER, List.of(up.url()), fx.publicKey())) {
      String missing = "/nix/store/" + "1".repeat(32) + "-not-there";
      expectError(s, up.url(), missing, 404, "upstream-not-found", false);
      expectError(
          s,
          "http://127.0.0.1:1/other-cache",
          fx.tree().toString(),
          403,
          "upstream-not-allowed",
          false);
      expectError(s, up.url(), "/nix/store/../../etc/passwd", 400, "bad-request", false);
      assertEquals(405, ServerTestSupport.get(s.url() + "/manifest").statusCode());
      assertEquals(404, ServerTestSupport.get(s.url() + "/nowhere").statusCode());
      assertEquals(400, ServerTestSupport.get(s.url() + "/manifest/..%2Fchunk").statusCode());
      HttpResponse<byte[]> bad = ServerTestSupport.post(s.url() + "/manifest", "{not json");
      assertEquals(400, bad.statusCode());
      assertEquals(false, json(bad).path("retry").asBoolean());
      // Upstream keeps failing with 503 beyond the client's retries: 502, worth retrying later.
      up.failNext(100, 503);
      expectError(s, up.url(), fx.tree().toString(), 502, "upstream-error", true);
      up.failNext(0, 503);
      // Once the upstream recovers the same request succeeds.
      HttpResponse<byte[]> ok = requestManifest(s, up.url(), fx.tree().toString());
      assertEquals(200, ok.statusCode(), new String(ok.body()));
      assertEquals(1, count(s.store().root().resolve("manifest")));
    }
  }
}
