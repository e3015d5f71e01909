package dev.styx.fetch;

import dev.styx.slab.ChunkRef;
import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * Somewhere chunks come from: single objects, batches, and later diffs against chunks already held
 * (the seam for the diff issue: a diffing source wraps or replaces the plain one). Every chunk
 * handed to the sink has been verified against its digest.
 */
public interface ChunkSource {

  /**
   * Fetches every chunk in {@code chunks} (distinct digests) and hands each to {@code sink}, in any
   * order, possibly concurrently. Returns when all were delivered; throws on the first chunk that
   * cannot be fetched by {@code deadline} (chunks delivered before the failure stay delivered).
   */
  void fetch(List<ChunkRef> chunks, ChunkSink sink, Instant deadline) throws IOException;
}
