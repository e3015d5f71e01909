package dev.styx.fetch;

import dev.styx.slab.VerifiedChunk;
import java.io.IOException;

/** Receives fetched, digest-verified chunks; may be called from several threads at once. */
@FunctionalInterface
public interface ChunkSink {
  void accept(VerifiedChunk chunk) throws IOException;
}
