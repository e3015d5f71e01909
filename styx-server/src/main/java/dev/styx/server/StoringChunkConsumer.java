package dev.styx.server;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.manifest.ChunkConsumer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Hashes, compresses and stores the chunks of one ingest on the shared CPU pool, so compression
 * uses every core while the ingest thread keeps reading the NAR; new chunk files are written by the
 * manifester's writer thread, so file-system waits do not idle a CPU thread. Small chunks travel in
 * batches (up to {@link #BATCH_BYTES}), so a tree of many small files costs one pool hand-off and
 * one writer hand-off per batch rather than per chunk: each hand-off may wake a thread on the other
 * core, which on a VM is an inter-processor interrupt. A per-ingest semaphore, counted in 64 KiB
 * units, bounds the chunk bytes in flight (memory) and makes the reader wait when the pool falls
 * behind. Threads, zstd contexts and recycled arrays belong to the manifester's {@link
 * ChunkPipeline}, shared by all its ingests.
 *
 * <p>{@link #accept}, {@link #flush} and {@link #abort} are called by the one ingest thread that
 * owns the open batch.
 */
final class StoringChunkConsumer implements ChunkConsumer {
  /** Per CPU-pool thread (platform threads, reused): a zstd context. */
  private static final class Scratch {
    final ZstdCompressCtx ctx = new ZstdCompressCtx();
    int level = -1;
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** A batch is handed to the pool once it holds this many bytes (or one chunk at least as big). */
  static final int BATCH_BYTES = 256 * 1024;

  private static final int UNIT_SHIFT = ChunkPolicy.SHIFT_64K;

  /** One chunk of a batch: its bytes, its digest's future, and its compressed frame once made. */
  private static final class Item {
    final byte[] buf;
    final int len;
    final CompletableFuture<ChunkDigest> digest = new CompletableFuture<>();
    ChunkDigest d;
    byte[] frame;
    int frameLen;

    /** The digest the builder computed, or null: then the CPU thread hashes. */
    final ChunkDigest known;

    Item(byte[] buf, int len, ChunkDigest known) {
      this.buf = buf;
      this.len = len;
      this.known = known;
    }
  }

  private final ChunkStoreDir store;
  private final ExecutorService cpu;
  private final ExecutorService writer;
  private final ServerMetrics metrics;
  private final Semaphore inFlight;
  private final int maxUnits;
  private volatile boolean aborted;
  private final ArrayPool chunkBuffers;

  /** Compressed frames travel to the writer in recycled arrays (no copy, no heap churn). */
  private final ArrayPool frames;

  /** The batch being filled by the ingest thread, and its size in bytes. */
  private ArrayList<Item> open = new ArrayList<>();

  private int openBytes;

  /**
   * One ingest's consumer on the manifester's shared {@code pipeline}. {@code maxInFlight} is in
   * largest-chunk-equivalents of memory: {@code maxInFlight} chunks of 1 MiB, or 16 times as many
   * of 64 KiB.
   */
  StoringChunkConsumer(
      ChunkStoreDir store, ChunkPipeline pipeline, ServerMetrics metrics, int maxInFlight) {
    this.store = store;
    this.cpu = pipeline.cpu();
    this.writer = pipeline.writer();
    this.chunkBuffers = pipeline.chunkBuffers();
    this.frames = pipeline.frames();
    this.metrics = metrics;
    this.maxUnits = maxInFlight << (ChunkPolicy.SHIFT_1M - UNIT_SHIFT);
    this.inFlight = new Semaphore(maxUnits);
  }

  private static int units(int len) {
    return Math.max(1, (len + (1 << UNIT_SHIFT) - 1) >>> UNIT_SHIFT);
  }

  @Override
  public byte[] buffer(int size) {
    return chunkBuffers.take(size);
  }

  @Override
  public Future<ChunkDigest> accept(byte[] buf, int len) throws IOException {
    return accept(buf, len, null);
  }

  @Override
  public Future<ChunkDigest> accept(byte[] buf, int len, ChunkDigest known) throws IOException {
    int units = units(len);
    if (!inFlight.tryAcquire(units)) {
      flush(); // the open batch holds permits: never wait for them while it is unsubmitted
      try {
        inFlight.acquire(units);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("ingest interrupted");
      }
    }
    Item item = new Item(buf, len, known);
    open.add(item);
    openBytes += len;
    if (openBytes >= BATCH_BYTES) {
      flush();
    }
    return item.digest;
  }

  /** Hands the open batch to the CPU pool. */
  @Override
  public void flush() throws IOException {
    if (open.isEmpty()) {
      return;
    }
    List<Item> batch = open;
    open = new ArrayList<>();
    openBytes = 0;
    try {
      cpu.execute(() -> hashAndCompress(batch));
    } catch (RuntimeException e) {
      for (Item it : batch) {
        chunkBuffers.give(it.buf);
        it.digest.completeExceptionally(new IOException("chunk pool rejected work: " + e, e));
        inFlight.release(units(it.len));
      }
      throw new IOException("chunk pool rejected work: " + e, e);
    }
  }

  @Override
  public void abort() {
    aborted = true;
    for (Item it : open) { // never submitted: nothing else holds them
      chunkBuffers.give(it.buf);
      it.digest.cancel(false);
      inFlight.release(units(it.len));
    }
    open = new ArrayList<>();
    openBytes = 0;
    // Each submitted chunk holds its permits until its write is finished or skipped: taking every
    // permit waits for all of them.
    inFlight.acquireUninterruptibly(maxUnits);
    inFlight.release(maxUnits);
  }

  /**
   * Hashes and compresses one batch on a CPU thread; the batch's new chunks are written on the
   * writer thread, because creating and linking files blocks on the file system and a CPU thread
   * waiting there would leave a core idle. One writer, not a thread per chunk: concurrent creates
   * in the same directory spin on its lock (measured: the write side took 19% of ingest CPU with a
   * virtual thread per chunk, 11% with one writer).
   */
  private void hashAndCompress(List<Item> batch) {
    List<Item> fresh = new ArrayList<>(batch.size());
    int freed = 0;
    for (Item it : batch) {
      boolean handedOff = false;
      try {
        handedOff = hashAndCompress(it);
      } catch (Throwable t) {
        it.digest.completeExceptionally(t);
      } finally {
        chunkBuffers.give(it.buf);
      }
      if (handedOff) {
        fresh.add(it);
      } else {
        freed += units(it.len);
      }
    }
    if (freed > 0) {
      inFlight.release(freed);
    }
    if (fresh.isEmpty()) {
      return;
    }
    try {
      writer.execute(() -> write(fresh));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      int units = 0;
      for (Item it : fresh) {
        frames.give(it.frame);
        it.digest.completeExceptionally(new IOException("the manifester is shutting down", e));
        units += units(it.len);
      }
      inFlight.release(units);
    }
  }

  /**
   * Hashes one chunk and, if the store lacks it, compresses it into {@code it.frame}; returns
   * whether it still needs writing (otherwise its future is complete or cancelled).
   */
  private boolean hashAndCompress(Item it) {
    if (aborted) {
      it.digest.cancel(false); // the ingest failed: queued chunks are not worth storing
      return false;
    }
    ChunkDigest d = it.known != null ? it.known : ChunkDigest.of(it.buf, 0, it.len);
    if (store.hasChunk(d)) {
      metrics.chunksExisting.increment();
      it.digest.complete(d);
      return false;
    }
    Scratch s = SCRATCH.get();
    if (s.level != store.level()) {
      s.ctx.setLevel(store.level());
      s.ctx.setContentSize(true);
      s.level = store.level();
    }
    byte[] frame = frames.take((int) Zstd.compressBound(it.len));
    try {
      it.frameLen = s.ctx.compressByteArray(frame, 0, frame.length, it.buf, 0, it.len);
    } catch (RuntimeException e) {
      frames.give(frame);
      throw e;
    }
    it.d = d;
    it.frame = frame;
    return true;
  }

  /** On the writer thread: stores each new chunk of a batch, then frees the batch's permits. */
  private void write(List<Item> fresh) {
    int units = 0;
    for (Item it : fresh) {
      try {
        if (aborted) {
          it.digest.cancel(false);
          continue;
        }
        try {
          store.putCompressedChunk(it.d, it.frame, 0, it.frameLen);
        } catch (IOException e) {
          throw new StoreWriteException("chunk " + it.d.hex(), e);
        }
        metrics.chunksNew.increment();
        metrics.chunkBytesNew.add(it.len);
        metrics.chunkBytesStored.add(it.frameLen);
        it.digest.complete(it.d);
      } catch (Throwable t) {
        it.digest.completeExceptionally(t);
      } finally {
        frames.give(it.frame);
        units += units(it.len);
      }
    }
    inFlight.release(units);
  }
}
