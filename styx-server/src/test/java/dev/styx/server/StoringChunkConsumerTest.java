package dev.styx.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.chunk.ChunkDigest;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.manifest.ChunkConsumer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ingest's chunk pipeline on a real chunk store: small chunks travel in batches, a batch that
 * is still open is never waited for (no deadlock under back-pressure), {@code flush} starts it, and
 * {@code abort} drops it without writing.
 */
class StoringChunkConsumerTest {
  @TempDir Path tmp;

  private final ExecutorService cpu = Executors.newFixedThreadPool(2);
  private final ChunkPipeline pipeline = new ChunkPipeline(cpu);
  private final ExecutorService writer = pipeline.writer();

  @AfterEach
  void stop() {
    pipeline.close();
    cpu.shutdownNow();
  }

  private static byte[] random(Random r, int len) {
    byte[] b = new byte[len];
    r.nextBytes(b);
    return b;
  }

  private static long chunkFiles(ChunkStoreDir store) throws IOException {
    try (Stream<Path> s = Files.list(store.root().resolve("chunk"))) {
      return s.count();
    }
  }

  @Test
  void manySmallChunksUnderTightBackPressureAllLandIntact() throws Exception {
    ChunkStoreDir store = new ChunkStoreDir(tmp.resolve("store"), 3);
    // One 1 MiB-equivalent in flight: 16 chunks of 64 KiB, fewer than one batch of small chunks
    // would hold if the reader waited for permits without submitting its open batch.
    ChunkConsumer c = new StoringChunkConsumer(store, pipeline, new ServerMetrics(), 1);
    Random r = new Random(7);
    List<byte[]> data = new ArrayList<>();
    List<Future<ChunkDigest>> ds = new ArrayList<>();
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          for (int i = 0; i < 400; i++) {
            int len = 300 + r.nextInt(i % 50 == 0 ? 1 << 20 : 40_000);
            byte[] chunk = random(r, len);
            data.add(chunk);
            byte[] buf = c.buffer(len);
            System.arraycopy(chunk, 0, buf, 0, len);
            ds.add(c.accept(buf, len));
          }
          c.flush();
          for (int i = 0; i < data.size(); i++) {
            ChunkDigest d = ds.get(i).get();
            assertEquals(ChunkDigest.of(data.get(i)), d, "chunk " + i);
            assertArrayEquals(data.get(i), store.readChunk(d).orElseThrow(), "chunk " + i);
          }
        });
    assertEquals(400, chunkFiles(store));
  }

  @Test
  void aSecondIngestOnTheSamePipelineReusesItsBuffers() throws Exception {
    Random r = new Random(11);
    long[] allocated = new long[2];
    for (int round = 0; round < 2; round++) {
      ChunkStoreDir store = new ChunkStoreDir(tmp.resolve("store-" + round), 3);
      ChunkConsumer c = new StoringChunkConsumer(store, pipeline, new ServerMetrics(), 2);
      List<Future<ChunkDigest>> ds = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        int len = i % 20 == 0 ? 1 << 20 : 1 << 16;
        byte[] buf = c.buffer(len);
        r.nextBytes(buf);
        ds.add(c.accept(buf, len));
      }
      c.flush();
      for (Future<ChunkDigest> d : ds) {
        assertTrue(store.hasChunk(d.get()));
      }
      allocated[round] =
          pipeline.chunkBuffers().allocations() + pipeline.frames().allocations() - allocated[0];
    }
    // Two ingests of 200 chunks each; a pipeline that did not recycle would allocate 400 arrays per
    // ingest (a chunk buffer and a frame each).
    assertTrue(allocated[0] < 200, "first ingest recycles within itself: " + allocated[0]);
    assertTrue(allocated[1] < 20, "second ingest allocates (almost) nothing: " + allocated[1]);
  }

  @Test
  void chunksOfAnOpenBatchStartOnlyAtFlush() throws Exception {
    ChunkStoreDir store = new ChunkStoreDir(tmp.resolve("store"), 3);
    ChunkConsumer c = new StoringChunkConsumer(store, pipeline, new ServerMetrics(), 12);
    byte[] chunk = random(new Random(1), 1000);
    byte[] buf = c.buffer(chunk.length);
    System.arraycopy(chunk, 0, buf, 0, chunk.length);
    Future<ChunkDigest> d = c.accept(buf, chunk.length);
    Thread.sleep(200);
    assertFalse(d.isDone(), "a lone small chunk waits for its batch to fill or be flushed");
    assertEquals(0, chunkFiles(store));
    c.flush();
    assertEquals(ChunkDigest.of(chunk), d.get());
    assertTrue(store.hasChunk(d.get()));
  }

  @Test
  void abortDropsTheOpenBatchAndWaitsForWritesInProgress() throws Exception {
    ChunkStoreDir store = new ChunkStoreDir(tmp.resolve("store"), 3);
    CountDownLatch release = new CountDownLatch(1);
    writer.execute(
        () -> {
          try {
            release.await(); // holds the writer, so submitted batches queue behind it
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    StoringChunkConsumer c = new StoringChunkConsumer(store, pipeline, new ServerMetrics(), 12);
    Random r = new Random(3);
    List<Future<ChunkDigest>> ds = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      byte[] buf = c.buffer(20_000);
      System.arraycopy(random(r, 20_000), 0, buf, 0, 20_000);
      ds.add(c.accept(buf, 20_000)); // 800 KB: three full batches submitted, one left open
    }
    Thread aborter = Thread.ofPlatform().start(c::abort);
    Thread.sleep(200);
    assertTrue(aborter.isAlive(), "abort waits for the queued writes");
    release.countDown();
    aborter.join(30_000);
    assertFalse(aborter.isAlive(), "abort returned");
    long files = chunkFiles(store);
    for (Future<ChunkDigest> d : ds) {
      assertTrue(d.isDone(), "every future is settled after abort");
    }
    Thread.sleep(200);
    assertEquals(files, chunkFiles(store), "nothing is written after abort returns");
    assertTrue(files < 40, "the open batch was not written: " + files);
    try (Stream<Path> s = Files.list(store.tmpDir())) {
      assertEquals(0, s.count(), "no temp file");
    }
  }
}
