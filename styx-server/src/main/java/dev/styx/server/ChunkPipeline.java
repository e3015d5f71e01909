package dev.styx.server;

import com.github.luben.zstd.Zstd;
import dev.styx.chunk.ChunkPolicy;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * What every ingest of one manifester shares for its chunks, made once per process: the CPU pool
 * that hashes and compresses (platform threads that each keep a zstd context), the one thread that
 * writes new chunk files, and the recycled chunk buffers and compressed frames. Each ingest's
 * {@link StoringChunkConsumer} borrows them and bounds only its own bytes in flight.
 *
 * <p>Long-lived on purpose: made per ingest, the threads, zstd contexts and ~25 MB of buffers are
 * new memory every time. Measured side by side ({@code scripts/bench-ingest}, JDK 17 NAR, 2 cores):
 * ingest 0.79-0.80x of the zstd yardstick (paired medians) with a new writer and new buffers per
 * ingest, 0.83-0.88x with this shared pipeline.
 */
public final class ChunkPipeline implements AutoCloseable {
  private final ExecutorService cpu;
  private final ExecutorService writer =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("chunk-write").daemon(true).factory());
  private final int chunksInFlight;
  private final ArrayPool chunkBuffers;
  private final ArrayPool frames;

  /**
   * A pipeline hashing and compressing on {@code cpu} (not owned: the caller shuts it down after
   * {@link #close}). Each ingest may hold {@link #chunksInFlight()} MiB of chunks in flight; the
   * pools keep up to twice that much of each kind of array.
   */
  public ChunkPipeline(ExecutorService cpu) {
    this.cpu = cpu;
    this.chunksInFlight = 4 * Runtime.getRuntime().availableProcessors() + 4;
    long keep = 2L * chunksInFlight << ChunkPolicy.SHIFT_1M;
    int[] sizes = {
      1 << ChunkPolicy.SHIFT_64K, 1 << ChunkPolicy.SHIFT_256K, 1 << ChunkPolicy.SHIFT_1M
    };
    int[] bounds = new int[sizes.length];
    for (int i = 0; i < sizes.length; i++) {
      bounds[i] = (int) Zstd.compressBound(sizes[i]);
    }
    this.chunkBuffers = new ArrayPool(keep, sizes);
    this.frames = new ArrayPool(keep, bounds);
  }

  /** Hashes and compresses chunks. */
  ExecutorService cpu() {
    return cpu;
  }

  /** Writes new chunk files, one at a time (see {@link StoringChunkConsumer}). */
  ExecutorService writer() {
    return writer;
  }

  /** Per-ingest bound on chunk bytes in flight, in MiB. */
  int chunksInFlight() {
    return chunksInFlight;
  }

  /** Chunk buffers the ingest thread fills from the NAR. */
  ArrayPool chunkBuffers() {
    return chunkBuffers;
  }

  /** Arrays that carry compressed chunks to the writer. */
  ArrayPool frames() {
    return frames;
  }

  /** Stops the writer once the writes already queued are done. */
  @Override
  public void close() {
    writer.shutdown();
  }
}
