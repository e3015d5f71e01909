package dev.styx.fetch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.ChunkDigestMismatchException;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.VerifiedChunk;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class HttpChunkSourceTest {

  private static List<ChunkRef> addChunks(LoopbackChunkServer s, int n, int seed) {
    Random r = new Random(seed);
    List<ChunkRef> refs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[1000 + r.nextInt(70_000)];
      r.nextBytes(b);
      refs.add(new ChunkRef(s.add(b), b.length));
    }
    return refs;
  }

  private static Instant in(int seconds) {
    return Instant.now().plusSeconds(seconds);
  }

  @Test
  void fetchesBatchesAndSinglesAndVerifiesEveryChunk() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 40, 1);
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src =
          new HttpChunkSource(
              FetchConfig.defaults(s.base()).withConcurrency(4).withBatchBelow(1 << 20), stats)) {
        Map<ChunkDigest, VerifiedChunk> got = new ConcurrentHashMap<>();
        src.fetch(refs, c -> got.put(c.digest(), c), in(10));
        assertEquals(40, got.size());
        for (ChunkRef r : refs) {
          assertEquals(r.length(), got.get(r.digest()).length());
          assertEquals(1, s.servedCount(r.digest()));
        }
        assertEquals(4, stats.batchRequests.sum(), "40 chunks over 4 slots: 4 batches of 10");
        assertEquals(0, stats.singleRequests.sum());
        assertEquals(40, stats.chunks.sum());
      }
    }
  }

  @Test
  void batchesOnlySmallChunks() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 40, 11);
      long small = refs.stream().filter(r -> r.length() < 32 << 10).count();
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src =
          new HttpChunkSource(FetchConfig.defaults(s.base()).withConcurrency(4), stats)) {
        List<ChunkDigest> got = java.util.Collections.synchronizedList(new ArrayList<>());
        src.fetch(refs, c -> got.add(c.digest()), in(10));
        assertEquals(40, got.size());
        assertEquals(40 - small, stats.singleRequests.sum(), "large chunks come one by one");
        assertTrue(small > 4 && stats.batchRequests.sum() == 4, "small ones in 4 batches");
      }
    }
  }

  @Test
  void fallsBackToSingleChunksWhenTheServerHasNoBatchRoute() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      s.batch = false;
      List<ChunkRef> refs = addChunks(s, 12, 2);
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src =
          new HttpChunkSource(FetchConfig.defaults(s.base()).withBatchBelow(1 << 20), stats)) {
        List<ChunkDigest> got = java.util.Collections.synchronizedList(new ArrayList<>());
        src.fetch(refs, c -> got.add(c.digest()), in(10));
        assertEquals(12, got.size());
        assertEquals(12, stats.singleRequests.sum());
      }
    }
  }

  @Test
  void retriesServerErrorsWithinTheBudget() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 1, 3);
      s.failNext503.set(2);
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src = new HttpChunkSource(FetchConfig.defaults(s.base()), stats)) {
        List<ChunkDigest> got = new ArrayList<>();
        src.fetch(refs, c -> got.add(c.digest()), in(10));
        assertEquals(List.of(refs.getFirst().digest()), got);
        assertEquals(2, stats.retries.sum());
      }
    }
  }

  @Test
  void flippedBytesAreRejectedAndNeverDelivered() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 3, 4);
      s.flip = true;
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src = new HttpChunkSource(FetchConfig.defaults(s.base()), stats)) {
        List<ChunkDigest> got = new ArrayList<>();
        FetchException e =
            assertThrows(
                FetchException.class, () -> src.fetch(refs, c -> got.add(c.digest()), in(10)));
        assertInstanceOf(ChunkDigestMismatchException.class, e.getCause());
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
        assertEquals(List.of(), got);
        assertTrue(stats.digestMismatches.sum() >= 1);
      }
    }
  }

  @Test
  void missingChunkIsNotFoundWithoutRetries() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      byte[] b = new byte[300];
      ChunkRef ghost = new ChunkRef(ChunkDigest.of(b), 300);
      FetchStats stats = new FetchStats();
      try (HttpChunkSource src = new HttpChunkSource(FetchConfig.defaults(s.base()), stats)) {
        assertThrows(
            ChunkNotFoundException.class, () -> src.fetch(List.of(ghost), c -> {}, in(10)));
        assertEquals(0, stats.retries.sum());
      }
    }
  }

  @Test
  void deadServerFailsClearlyWithinTheDeadline() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = ss.getLocalPort();
    }
    FetchConfig cfg =
        FetchConfig.defaults(URI.create("http://127.0.0.1:" + port + "/"))
            .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2), 3);
    try (HttpChunkSource src = new HttpChunkSource(cfg, new FetchStats())) {
      long t0 = System.nanoTime();
      FetchException e =
          assertThrows(
              FetchException.class,
              () ->
                  src.fetch(List.of(new ChunkRef(ChunkDigest.of(new byte[1]), 1)), c -> {}, in(3)));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 3500, "took " + ms + " ms");
      assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
    }
  }

  @Test
  void concurrentCallersFetchEachChunkOnce() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 64, 5);
      InFlightFetches inflight = new InFlightFetches();
      Map<ChunkDigest, Boolean> present = new ConcurrentHashMap<>();
      try (HttpChunkSource src =
              new HttpChunkSource(FetchConfig.defaults(s.base()), new FetchStats());
          ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          List<ChunkRef> mine = new ArrayList<>(refs.subList((i % 4) * 8, (i % 4) * 8 + 40));
          java.util.Collections.shuffle(mine, new Random(i));
          fs.add(
              ex.submit(
                  () ->
                      inflight.ensure(
                          mine,
                          d -> present.containsKey(d),
                          src,
                          c -> Thread.onSpinWait(),
                          (Collection<ChunkDigest> ds) -> ds.forEach(d -> present.put(d, true)),
                          in(20))));
        }
        int total = 0;
        for (Future<Integer> f : fs) {
          total += f.get();
        }
        assertEquals(64, total, "every chunk fetched by exactly one caller");
        for (ChunkRef r : refs) {
          assertEquals(1, s.servedCount(r.digest()), "served once: " + r.digest());
        }
        assertEquals(0, inflight.inFlight());
      }
    }
  }

  @Test
  void aFailedOwnerFailsItsWaitersAndReleasesTheClaims() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 2, 6);
      s.flip = true;
      InFlightFetches inflight = new InFlightFetches();
      try (HttpChunkSource src =
          new HttpChunkSource(FetchConfig.defaults(s.base()), new FetchStats())) {
        assertThrows(
            IOException.class,
            () -> inflight.ensure(refs, d -> false, src, c -> {}, ds -> {}, in(10)));
        assertEquals(0, inflight.inFlight());
        s.flip = false;
        assertEquals(2, inflight.ensure(refs, d -> false, src, c -> {}, ds -> {}, in(10)));
      }
    }
  }

  @Test
  void aWrittenWaitReturnsBeforeTheCommitAndTheClaimHoldsUntilIt() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 3, 7);
      InFlightFetches inflight = new InFlightFetches();
      Map<ChunkDigest, Boolean> written = new ConcurrentHashMap<>();
      Map<ChunkDigest, Boolean> committed = new ConcurrentHashMap<>();
      java.util.concurrent.CountDownLatch commitMayRun = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch commitDone = new java.util.concurrent.CountDownLatch(1);
      InFlightFetches.Commit slowCommit =
          ds -> {
            try {
              commitMayRun.await();
            } catch (InterruptedException e) {
              throw new java.io.InterruptedIOException();
            }
            ds.forEach(d -> committed.put(d, true));
            commitDone.countDown();
          };
      try (HttpChunkSource src =
              new HttpChunkSource(FetchConfig.defaults(s.base()), new FetchStats());
          ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
        int n =
            inflight.ensure(
                refs,
                committed::containsKey,
                src,
                c -> written.put(c.digest(), true),
                slowCommit,
                in(10),
                InFlightFetches.Wait.WRITTEN);
        assertEquals(3, n);
        assertEquals(3, written.size(), "returned with every chunk written");
        assertTrue(committed.isEmpty(), "... and before its commit ran");
        assertEquals(3, inflight.inFlight(), "claims held until the commit ends");
        // A second reader waits only for the written stage; a durable caller waits for the commit.
        assertEquals(
            0,
            inflight.ensure(
                refs,
                committed::containsKey,
                src,
                c -> {},
                ds -> {},
                in(10),
                InFlightFetches.Wait.WRITTEN));
        Future<Integer> durable =
            ex.submit(
                () ->
                    inflight.ensure(refs, committed::containsKey, src, c -> {}, ds -> {}, in(10)));
        Thread.sleep(200);
        assertTrue(!durable.isDone(), "a durable caller waits for the commit");
        commitMayRun.countDown();
        assertEquals(0, durable.get(), "nothing fetched twice");
        assertTrue(commitDone.await(5, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(3, committed.size());
        for (ChunkRef r : refs) {
          assertEquals(1, s.servedCount(r.digest()));
        }
        for (int i = 0; i < 100 && inflight.inFlight() > 0; i++) {
          Thread.sleep(10);
        }
        assertEquals(0, inflight.inFlight());
      }
    }
  }

  @Test
  void aFailedBackgroundCommitReleasesTheClaimsSoTheChunksAreFetchedAgain() throws Exception {
    try (LoopbackChunkServer s = new LoopbackChunkServer()) {
      List<ChunkRef> refs = addChunks(s, 2, 8);
      InFlightFetches inflight = new InFlightFetches();
      try (HttpChunkSource src =
          new HttpChunkSource(FetchConfig.defaults(s.base()), new FetchStats())) {
        InFlightFetches.Commit failing =
            ds -> {
              throw new IOException("disk full");
            };
        assertEquals(
            2,
            inflight.ensure(
                refs, d -> false, src, c -> {}, failing, in(10), InFlightFetches.Wait.WRITTEN));
        for (int i = 0; i < 100 && inflight.inFlight() > 0; i++) {
          Thread.sleep(10);
        }
        assertEquals(0, inflight.inFlight());
        assertEquals(2, inflight.ensure(refs, d -> false, src, c -> {}, ds -> {}, in(10)));
        for (ChunkRef r : refs) {
          assertEquals(2, s.servedCount(r.digest()), "unrecorded chunks are fetched again");
        }
      }
    }
  }
}
