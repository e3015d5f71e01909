package dev.styx.server;

import dev.styx.chunk.ChunkDigest;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.diff.DiffCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

/**
 * Serves chunks from the store: one object as stored, a batch as one zstd frame, or a diff of
 * targets against bases (see {@link DiffCodec}). Decompression and compression run on the bounded
 * CPU pool, never on the caller's (virtual) thread.
 */
final class ChunkService {
  /**
   * Most digests per side of one /chunks or /chunkdiff request. The work is bounded by the bytes
   * ({@link DiffCodec#MAX_BASE_BYTES}, {@link DiffCodec#MAX_TARGET_BYTES}); this bounds the request
   * body (2 x 4,096 x 67 bytes of JSON) and the X-Styx-Lengths header (at most ~32 KB, under the
   * header limits of curl, Python and the JDK client).
   */
  static final int MAX_DIGESTS = 4096;

  private final ChunkStoreDir store;
  private final ExecutorService cpu;
  private final ServerMetrics metrics;
  private final int level;

  ChunkService(ChunkStoreDir store, ExecutorService cpu, ServerMetrics metrics, int level) {
    this.store = store;
    this.cpu = cpu;
    this.metrics = metrics;
    this.level = level;
  }

  /** An encoded batch or diff: one zstd frame plus the length of each target. */
  record Encoded(byte[] frame, long[] lengths, long baseBytes) {}

  /** The stored object of one chunk (a zstd frame). */
  byte[] chunkObject(ChunkDigest d) throws IOException {
    var z = store.readCompressedChunk(d);
    if (z.isEmpty()) {
      metrics.chunksMissing.increment();
      throw ApiException.notFound("chunk-not-found", "no chunk " + d.hex());
    }
    metrics.chunksServed.increment();
    return z.get();
  }

  Encoded batch(List<ChunkDigest> targets) throws IOException {
    return diff(List.of(), targets);
  }

  Encoded diff(List<ChunkDigest> bases, List<ChunkDigest> targets) throws IOException {
    if (targets.isEmpty()) {
      throw ApiException.badRequest("no target digests");
    }
    if (targets.size() > MAX_DIGESTS || bases.size() > MAX_DIGESTS) {
      throw ApiException.badRequest("at most " + MAX_DIGESTS + " digests per side");
    }
    // Fail with the full list of missing chunks before doing any CPU work.
    List<String> missing = new ArrayList<>();
    for (ChunkDigest d : concat(bases, targets)) {
      if (!store.hasChunk(d)) {
        missing.add(d.hex());
      }
    }
    if (!missing.isEmpty()) {
      metrics.chunksMissing.add(missing.size());
      throw ApiException.notFound(
          "chunk-not-found",
          "missing "
              + missing.size()
              + " chunk(s): "
              + String.join(",", missing.subList(0, Math.min(8, missing.size()))));
    }
    Future<Encoded> f;
    try {
      f = cpu.submit(() -> encode(bases, targets));
    } catch (RejectedExecutionException e) {
      throw new ApiException(503, "overloaded", "server busy, retry later");
    }
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ApiException a) {
        throw a;
      }
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("encoding failed: " + e.getCause(), e.getCause());
    }
  }

  private Encoded encode(List<ChunkDigest> bases, List<ChunkDigest> targets) throws IOException {
    byte[] base = DiffCodec.concat(read(bases, DiffCodec.MAX_BASE_BYTES, "base"));
    List<byte[]> ts = read(targets, DiffCodec.MAX_TARGET_BYTES, "target");
    long[] lengths = new long[ts.size()];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = ts.get(i).length;
    }
    byte[] frame = DiffCodec.encode(base, DiffCodec.concat(ts), level);
    metrics.chunksServed.add(targets.size());
    metrics.diffBaseBytes.add(base.length);
    metrics.diffTargetBytes.add(java.util.Arrays.stream(lengths).sum());
    metrics.diffOutBytes.add(frame.length);
    return new Encoded(frame, lengths, base.length);
  }

  private List<byte[]> read(List<ChunkDigest> ds, long maxBytes, String side) throws IOException {
    List<byte[]> out = new ArrayList<>(ds.size());
    long total = 0;
    for (ChunkDigest d : ds) {
      byte[] data =
          store
              .readChunk(d)
              .orElseThrow(() -> ApiException.notFound("chunk-not-found", "no chunk " + d.hex()));
      total += data.length;
      if (total > maxBytes) {
        throw ApiException.badRequest(side + " chunks exceed " + maxBytes + " bytes");
      }
      out.add(data);
    }
    return out;
  }

  private static List<ChunkDigest> concat(List<ChunkDigest> a, List<ChunkDigest> b) {
    List<ChunkDigest> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }
}
