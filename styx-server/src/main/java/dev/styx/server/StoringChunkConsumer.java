package dev.styx.server;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.manifest.ChunkConsumer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Hashes, compresses and stores the chunks of one ingest on the shared CPU pool, so compression
 * uses every core while the ingest thread keeps reading the NAR; new chunk files are written by the
 * manifester's writer thread, so file-system waits do not idle a CPU thread. A per-ingest semaphore
 * bounds the chunks in flight (memory) and makes the reader wait when the pool falls behind; chunk
 * buffers are recycled so a large NAR does not churn the heap.
 */
final class StoringChunkConsumer implements ChunkConsumer {
  /** Per CPU-pool thread (platform threads, reused): a zstd context. */
  private static final class Scratch {
    final ZstdCompressCtx ctx = new ZstdCompressCtx();
    int level = -1;
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final ChunkStoreDir store;
  private final ExecutorService cpu;
  private final ExecutorService writer;
  private final ServerMetrics metrics;
  private final Semaphore inFlight;
  private final int maxInFlight;
  private volatile boolean aborted;
  private final ArrayPool chunkBuffers = new ArrayPool(1 << ChunkPolicy.SHIFT_64K);

  /** Compressed frames travel to the writer in recycled arrays (no copy, no heap churn). */
  private final ArrayPool frames =
      new ArrayPool((int) Zstd.compressBound(1 << ChunkPolicy.SHIFT_64K));

  StoringChunkConsumer(
      ChunkStoreDir store,
      ExecutorService cpu,
      ExecutorService writer,
      ServerMetrics metrics,
      int maxInFlight) {
    this.store = store;
    this.cpu = cpu;
    this.writer = writer;
    this.metrics = metrics;
    this.inFlight = new Semaphore(maxInFlight);
    this.maxInFlight = maxInFlight;
  }

  @Override
  public byte[] buffer(int size) {
    return chunkBuffers.take(size);
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
            boolean handedOff = false;
            try {
              handedOff = hashAndCompress(buf, len, f);
            } catch (Throwable t) {
              f.completeExceptionally(t);
            } finally {
              chunkBuffers.give(buf);
              if (!handedOff) {
                inFlight.release();
              }
            }
          });
    } catch (RuntimeException e) {
      inFlight.release();
      throw new IOException("chunk pool rejected work: " + e, e);
    }
    return f;
  }

  @Override
  public void abort() {
    aborted = true;
    // Each task holds one permit until its write is finished or skipped: taking every permit
    // waits for all of them.
    inFlight.acquireUninterruptibly(maxInFlight);
    inFlight.release(maxInFlight);
  }

  /**
   * Hashes and compresses one chunk on a CPU thread; a new chunk's file is written on the writer
   * thread, because creating and renaming files blocks on the file system (journal) and a CPU
   * thread waiting there would leave a core idle. One writer, not a thread per chunk: concurrent
   * creates and renames in the same two directories spin on the directory locks (measured: the
   * write side took 19% of ingest CPU with a virtual thread per chunk, 11% with one writer).
   * Returns whether the write was handed off (it then completes {@code f} and releases the
   * in-flight permit).
   */
  private boolean hashAndCompress(byte[] buf, int len, CompletableFuture<ChunkDigest> f) {
    if (aborted) {
      f.cancel(false); // the ingest failed: queued chunks are not worth storing
      return false;
    }
    ChunkDigest d = ChunkDigest.of(buf, 0, len);
    if (store.hasChunk(d)) {
      metrics.chunksExisting.increment();
      f.complete(d);
      return false;
    }
    Scratch s = SCRATCH.get();
    if (s.level != store.level()) {
      s.ctx.setLevel(store.level());
      s.ctx.setContentSize(true);
      s.level = store.level();
    }
    byte[] frame = frames.take((int) Zstd.compressBound(len));
    int n;
    try {
      n = s.ctx.compressByteArray(frame, 0, frame.length, buf, 0, len);
    } catch (RuntimeException e) {
      frames.give(frame);
      throw e;
    }
    try {
      writer.execute(
          () -> {
            try {
              store.putCompressedChunk(d, frame, 0, n);
              metrics.chunksNew.increment();
              metrics.chunkBytesNew.add(len);
              metrics.chunkBytesStored.add(n);
              f.complete(d);
            } catch (Throwable t) {
              f.completeExceptionally(t);
            } finally {
              frames.give(frame);
              inFlight.release();
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      frames.give(frame);
      f.completeExceptionally(new IOException("the manifester is shutting down", e));
      return false;
    }
    return true;
  }
}
