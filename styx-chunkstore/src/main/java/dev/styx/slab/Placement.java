package dev.styx.slab;

import dev.styx.chunk.ChunkDigest;

/** A chunk's placement in the slabs and whether its bytes are known to be durably written. */
public record Placement(ChunkDigest digest, SlabLocation location, boolean present) {}
