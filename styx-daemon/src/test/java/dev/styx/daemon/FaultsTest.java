package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import dev.styx.api.ApiClient;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.db.ImageRecord;
import dev.styx.db.ImageState;
import dev.styx.manifest.Manifest;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixSecretKey;
import dev.styx.slab.Placement;
import dev.styx.testing.StaticHttpServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 3 (part): a dead or silent chunk server, a chunk with flipped bytes and a manifest
 * signed by an untrusted key each make the mount fail with a clear error, leaving nothing mounted
 * and nothing unverified in the slabs.
 */
class FaultsTest {
  @TempDir Path tmp;

  @AfterEach
  void cleanup() throws Exception {
    Testbed.unmountAllUnder(tmp);
  }

  private static void assertNothingAt(Path mp) throws Exception {
    assertFalse(MountTable.isMountPoint(mp), mp + " is mounted");
    assertFalse(Files.exists(mp, LinkOption.NOFOLLOW_LINKS), mp + " was left behind");
  }

  private static void assertFailed(Daemon d, StorePath p, String errorPart) throws Exception {
    ImageRecord r = d.db().image(p.baseName()).orElseThrow();
    assertEquals(ImageState.FAILED, r.state());
    assertTrue(r.error().contains(errorPart), r.error());
  }

  @Test
  void deadChunkServerFailsTheMountWithinTheTimeout() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    StorePath p = Testbed.path("perl");
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofSeconds(8))) {
      ApiClient c = new ApiClient(d.config().socket());
      Testbed.init(c, m.url(), "http://127.0.0.1:" + port, m.publicKey());
      Testbed.manifest(m, p); // ingested already: the timeout covers fetching only
      Path mp = tmp.resolve("mnt").resolve(p.baseName());
      long t0 = System.nanoTime();
      ApiClient.Reply r = Testbed.mount(c, p, mp);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(500, r.status(), r.text());
      assertTrue(r.text().contains("cannot connect"), r.text());
      assertTrue(ms < 8000, "failed after " + ms + " ms");
      assertNothingAt(mp);
      assertFailed(d, p, "cannot connect");
      assertEquals(0, d.db().chunkTotals().present());
    }
  }

  @Test
  void silentChunkServerFailsTheMountAtTheTimeout() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofSeconds(5))) {
      List<Socket> held = new ArrayList<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  while (true) {
                    held.add(silent.accept()); // accept, never answer
                  }
                } catch (Exception e) {
                  // closed
                }
              });
      StorePath p = Testbed.path("gconv");
      ApiClient c = new ApiClient(d.config().socket());
      Testbed.init(c, m.url(), "http://127.0.0.1:" + silent.getLocalPort(), m.publicKey());
      Testbed.manifest(m, p);
      Path mp = tmp.resolve("mnt").resolve(p.baseName());
      long t0 = System.nanoTime();
      ApiClient.Reply r = Testbed.mount(c, p, mp);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(500, r.status(), r.text());
      assertTrue(ms >= 4000 && ms < 8000, "failed after " + ms + " ms: " + r.text());
      assertTrue(r.text().contains("timed out") || r.text().contains("deadline"), r.text());
      assertNothingAt(mp);
    }
  }

  @Test
  void flippedChunkIsRejectedAndNeverWritten() throws Exception {
    StorePath p = Testbed.path("linux-headers");
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"))) {
      Manifest man = Testbed.manifest(m, p);
      // A static copy of the chunk tree with one chunk's content flipped (same name).
      Path stat = tmp.resolve("static");
      Files.createDirectories(stat.resolve("chunk"));
      try (Stream<Path> s = Files.list(tmp.resolve("chunkstore/chunk"))) {
        for (Path f : s.toList()) {
          Files.copy(f, stat.resolve("chunk").resolve(f.getFileName()));
        }
      }
      ChunkDigest victim = ImagePlan.chunks(man).get(3).digest();
      Path vf = stat.resolve("chunk").resolve(victim.hex());
      byte[] data = ChunkStoreDir.decompressChunk(victim, Files.readAllBytes(vf));
      data[data.length / 2] ^= 0x01;
      Files.write(vf, Zstd.compress(data, 3));
      try (StaticHttpServer chunks = new StaticHttpServer(stat);
          Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofSeconds(30))) {
        ApiClient c = new ApiClient(d.config().socket());
        Testbed.init(c, m.url(), chunks.url(), m.publicKey());
        Path mp = tmp.resolve("mnt").resolve(p.baseName());
        ApiClient.Reply r = Testbed.mount(c, p, mp);
        assertEquals(500, r.status(), r.text());
        assertTrue(r.text().contains("digest mismatch"), r.text());
        assertNothingAt(mp);
        assertFailed(d, p, "digest mismatch");
        Placement pl = d.db().lookup(victim).orElseThrow();
        assertFalse(pl.present(), "a rejected chunk is not recorded present");
        byte[] onDisk = d.slabs().read(pl.location());
        assertTrue(allZero(onDisk), "no byte of the rejected chunk reached the slab");
      }
    }
  }

  @Test
  void manifestSignedByAnUntrustedKeyIsRefused() throws Exception {
    StorePath p = Testbed.path("ssl");
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofSeconds(30))) {
      ApiClient c = new ApiClient(d.config().socket());
      // Same key name as the manifester's, different key: the signature cannot verify.
      String impostor = NixSecretKey.generate("styx-manifester-test-1").publicKey().toString();
      Testbed.init(c, m.url(), m.url(), impostor);
      Path mp = tmp.resolve("mnt").resolve(p.baseName());
      ApiClient.Reply r = Testbed.mount(c, p, mp);
      assertEquals(403, r.status(), r.text());
      assertTrue(r.text().contains("signature"), r.text());
      assertTrue(r.text().contains("\"Success\":false"), r.text());
      assertNothingAt(mp);
      assertFailed(d, p, "signature");
      assertEquals(0, d.db().chunkTotals().placed(), "nothing placed for a refused manifest");
      assertTrue(d.db().manifest(p.baseName()).isEmpty(), "refused manifest not stored");
    }
  }

  @Test
  void hostileRequestsAreRejectedBeforeAnythingHappens() throws Exception {
    dev.styx.testing.Tiers.requireRoot();
    try (Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofSeconds(5))) {
      ApiClient c = new ApiClient(d.config().socket());
      String ok = "0123456789abcdfghijklmnpqrsvwxyz-hello";
      String[][] bad = {
        {ok, "relative/mnt"},
        {ok, "/tmp/../etc"},
        {ok, "/"},
        {"../../etc-passwd", "/tmp/x"},
        {"0123456789abcdfghijklmnpqrsvwxyz", "/tmp/x"},
        {"0123456789abcdfghijklmnpqrsvwxy!-x", "/tmp/x"},
        {"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-a/b", "/tmp/x"},
      };
      for (String[] b : bad) {
        String json =
            "{\"Upstream\":\"http://127.0.0.1:1\",\"StorePath\":\""
                + b[0]
                + "\",\"MountPoint\":\""
                + b[1]
                + "\"}";
        ApiClient.Reply r = c.post("/mount", json);
        assertEquals(400, r.status(), String.join(" ", b) + ": " + r.text());
        assertTrue(r.text().contains("\"Success\":false"), r.text());
      }
      // A well-formed request before /init is refused as "not initialized", nothing recorded.
      ApiClient.Reply r =
          c.post(
              "/mount",
              "{\"Upstream\":\"http://127.0.0.1:1\",\"StorePath\":\""
                  + ok
                  + "\",\"MountPoint\":\""
                  + tmp.resolve("m")
                  + "\"}");
      assertEquals(412, r.status(), r.text());
      assertTrue(r.text().contains("styx init"), r.text());
      assertTrue(d.db().images().isEmpty());
      assertEquals(404, c.post("/umount", "{\"StorePath\":\"" + ok + "\"}").status());
    }
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }
}
