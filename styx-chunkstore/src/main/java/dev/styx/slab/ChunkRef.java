package dev.styx.slab;

import dev.styx.chunk.ChunkDigest;

/** A chunk as a manifest names it: its digest and its exact length in bytes. */
public record ChunkRef(ChunkDigest digest, int length) {
  public ChunkRef {
    if (length <= 0) {
      throw new IllegalArgumentException("chunk length must be positive: " + length);
    }
  }
}
