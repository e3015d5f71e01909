package dev.styx.server;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.manifest.ChunkConsumer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Hashes, compresses and stores the chunks of one ingest on the shared CPU pool, so compression
 * uses every core while the ingest thread keeps reading the NAR. A per-ingest semaphore bounds the
 * chunks in flight (memory) and makes the reader wait when the pool falls behind.
 */
final class StoringChunkConsumer implements ChunkConsumer {
  /** One compression context per CPU-pool thread (platform threads, reused). */
  private static final ThreadLocal<ZstdCompressCtx> CTX = new ThreadLocal<>();

  private final ChunkStoreDir store;
  private final ExecutorService cpu;
  private final ServerMetrics metrics;
  private final Semaphore inFlight;

  StoringChunkConsumer(
      ChunkStoreDir store, ExecutorService cpu, ServerMetrics metrics, int maxInFlight) {
    this.store = store;
    this.cpu = cpu;
    this.metrics = metrics;
    this.inFlight = new Semaphore(maxInFlight);
  }

  @Override
  public Future<ChunkDigest> accept(byte[] buf, int len) throws IOException {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("ingest interrupted");
    }
    CompletableFuture<ChunkDigest> f = new CompletableFuture<>();
    try {
      cpu.execute(
          () -> {
            try {
              f.complete(store(buf, len));
            } catch (Throwable t) {
              f.completeExceptionally(t);
            } finally {
              inFlight.release();
            }
          });
    } catch (RuntimeException e) {
      inFlight.release();
      throw new IOException("chunk pool rejected work: " + e, e);
    }
    return f;
  }

  private ChunkDigest store(byte[] buf, int len) throws IOException {
    ChunkDigest d = ChunkDigest.of(buf, 0, len);
    if (store.hasChunk(d)) {
      metrics.chunksExisting.increment();
      return d;
    }
    ZstdCompressCtx c = CTX.get();
    if (c == null) {
      c = new ZstdCompressCtx();
      c.setLevel(store.level());
      c.setContentSize(true);
      CTX.set(c);
    }
    byte[] out = new byte[(int) Zstd.compressBound(len)];
    int n = c.compressByteArray(out, 0, out.length, buf, 0, len);
    store.putCompressedChunk(d, Arrays.copyOf(out, n));
    metrics.chunksNew.increment();
    metrics.chunkBytesNew.add(len);
    metrics.chunkBytesStored.add(n);
    return d;
  }
}
