package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.api.ApiClient;
import dev.styx.manifest.Manifest;
import dev.styx.nix.StorePath;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 4: 16 concurrent mounts of 8 store paths that share chunks all succeed, and the chunk
 * server (its own counter) serves every distinct chunk exactly once.
 */
class ConcurrencyTest {
  @TempDir Path tmp;

  @AfterEach
  void cleanup() throws Exception {
    Testbed.unmountAllUnder(tmp);
  }

  @Test
  void sixteenConcurrentMountsFetchEachChunkOnce() throws Exception {
    List<StorePath> family = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      family.add(Testbed.path("family" + i));
    }
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofMinutes(2))) {
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      List<Manifest> manifests = new ArrayList<>();
      for (StorePath p : family) {
        manifests.add(Testbed.manifest(m, p)); // ingest first: counts only daemon fetches below
      }
      long servedBefore = m.chunksServed();
      int distinct = Testbed.distinctChunks(manifests).size();
      CountDownLatch go = new CountDownLatch(1);
      try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<ApiClient.Reply>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          StorePath p = family.get(i % 8);
          Path mp = tmp.resolve("mnt").resolve(p.baseName());
          fs.add(
              ex.submit(
                  () -> {
                    go.await();
                    return Testbed.mount(c, p, mp);
                  }));
        }
        go.countDown();
        for (Future<ApiClient.Reply> f : fs) {
          ApiClient.Reply r = f.get();
          assertEquals(200, r.status(), r.text());
        }
      }
      long served = m.chunksServed() - servedBefore;
      System.err.printf("concurrency: %d distinct chunks, server served %d%n", distinct, served);
      assertEquals(distinct, served, "each chunk fetched exactly once");
      for (StorePath p : family) {
        Path mp = tmp.resolve("mnt").resolve(p.baseName());
        assertEquals(Testbed.narHashHex(p), Testbed.dumpHashHex(mp), p.toString());
      }
    }
  }
}
