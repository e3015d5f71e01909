package dev.styx.slab;

import dev.styx.chunk.ChunkDigest;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The persistent map digest &lt;-&gt; slab location, with presence. Implemented by the daemon's
 * database; every method is one transaction, so a crash leaves either all or none of its effect.
 */
public interface ChunkIndex {

  /**
   * Places each chunk: its existing placement if the digest is known, else fresh block-aligned
   * space at the end of the current slab (the next slab when it is full). Same order as {@code
   * chunks}; a digest repeated in the list is placed once.
   */
  List<Placement> place(List<ChunkRef> chunks) throws IOException;

  /** The placement of a digest, if it has one. */
  Optional<Placement> lookup(ChunkDigest digest) throws IOException;

  /** The chunk whose blocks cover byte {@code offset} of slab {@code slab}, if any. */
  Optional<Placement> at(int slab, long offset) throws IOException;

  /**
   * Records the chunks as present. Call only after their bytes are durable (written and synced):
   * presence in the index is the only evidence of presence, holes are never consulted.
   */
  void markPresent(Collection<ChunkDigest> digests) throws IOException;
}
