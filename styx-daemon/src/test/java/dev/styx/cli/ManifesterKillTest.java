package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import dev.styx.chunk.ChunkDigest;
import dev.styx.manifest.ChunkStreamFetcher;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestClient;
import dev.styx.manifest.ManifestNarWriter;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code styx manifester} killed with SIGKILL in the middle of ingesting the JDK (a real Nix zstd
 * cache, ~270 MB of NAR) loses nothing: no manifest and no temp file is left, every chunk file in
 * the store is whole (decompresses to bytes whose SHA-256 is its name), and a manifester started
 * again on the same store serves the path, reusing the chunks written before the kill, with a
 * manifest that rebuilds to the narinfo's NarHash.
 */
class ManifesterKillTest {
  private static final Pattern LISTENING = Pattern.compile("listening on (http://[^,\\s]+)");

  @TempDir Path tmp;
  private final List<Process> children = new ArrayList<>();

  @AfterEach
  void cleanup() throws Exception {
    for (Process p : children) {
      p.destroyForcibly().waitFor();
    }
  }

  private Process manifester(Path store, Path key, String upstream, String upstreamKey, Path log)
      throws IOException {
    List<String> cmd =
        ChildStyx.command(
            "manifester",
            "--listen",
            "127.0.0.1:0",
            "--store",
            store.toString(),
            "--signing-key",
            key.toString(),
            "--upstream",
            upstream,
            "--upstream-key",
            upstreamKey);
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    children.add(p);
    return p;
  }

  /** The URL the manifester logged once listening. */
  private static String awaitUrl(Process p, Path log) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      assertTrue(p.isAlive(), "manifester exited: " + Files.readString(log));
      if (Files.exists(log)) {
        Matcher m = LISTENING.matcher(Files.readString(log));
        if (m.find()) {
          return m.group(1);
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("manifester did not come up: " + Files.readString(log));
  }

  private static long count(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  private static long metric(String url, String name) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    throw new AssertionError("no metric " + name + " in:\n" + text);
  }

  @Test
  void killedMidIngestLosesNothingAndTheNextRunFinishes() throws Exception {
    NixCacheFixture fx = NixCacheFixture.sharedJdk();
    StorePath jdk = fx.paths().get("jdk");
    Path cache = fx.cacheDir("zstd");
    String upstream = "file://" + cache;
    NixSecretKey signer = NixSecretKey.generate("styx-kill-test-1");
    Path key = tmp.resolve("sk");
    Files.writeString(key, signer.toKeyFileString());
    Path store = tmp.resolve("store");
    Path chunkDir = store.resolve("chunk");

    Path log1 = tmp.resolve("manifester-1.log");
    Process first = manifester(store, key, upstream, fx.publicKey(), log1);
    String url1 = awaitUrl(first, log1);
    String body = "{\"upstream\":\"" + upstream + "\",\"storePath\":\"" + jdk.baseName() + "\"}";
    HttpClient http = HttpClient.newHttpClient();
    var pending =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(url1 + "/manifest"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    // Kill once the ingest has written some chunks, well before it can finish (~2,000 chunks).
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (count(chunkDir) < 100) {
      assertTrue(System.nanoTime() < until, "no chunks written: " + Files.readString(log1));
      assertTrue(!pending.isDone(), "ingest finished before the kill: " + count(chunkDir));
      Thread.sleep(5);
    }
    first.destroyForcibly(); // SIGKILL
    assertTrue(first.waitFor(30, TimeUnit.SECONDS));
    long before = count(chunkDir);
    assertTrue(before >= 100 && before < 1500, "chunks at the kill: " + before);
    assertEquals(0, count(store.resolve("manifest")), "no manifest from the killed ingest");
    assertEquals(0, count(store.resolve(".tmp")), "no temp file");
    try (Stream<Path> s = Files.list(chunkDir)) {
      for (Path c : s.toList()) {
        byte[] frame = Files.readAllBytes(c);
        byte[] data = Zstd.decompress(frame, (int) Zstd.getFrameContentSize(frame));
        assertEquals(c.getFileName().toString(), ChunkDigest.of(data).hex(), "whole chunk " + c);
      }
    }

    Path log2 = tmp.resolve("manifester-2.log");
    Process second = manifester(store, key, upstream, fx.publicKey(), log2);
    String url2 = awaitUrl(second, log2);
    Manifest m;
    try (ManifestClient client =
        new ManifestClient(
            URI.create(url2), NixKeyring.of(signer.publicKey()), Duration.ofMinutes(5), 3)) {
      m = client.request(upstream, jdk.toString()).manifest();
    }
    assertTrue(
        metric(url2, "styx_chunks_existing_total") >= before,
        "the chunks written before the kill are reused");
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (ChunkStreamFetcher f = new ChunkStreamFetcher(URI.create(url2), m, 4);
        DigestOutputStream out =
            new DigestOutputStream(java.io.OutputStream.nullOutputStream(), md)) {
      ManifestNarWriter.write(m, f, out);
    }
    NarInfo ni = NarInfo.parse(Files.readString(cache.resolve(jdk.hashPart() + ".narinfo")));
    assertEquals(ni.narHash(), NixHash.sha256(md.digest()));
    assertEquals(1, count(store.resolve("manifest")));
  }
}
