package dev.styx.daemon;

import dev.styx.chunk.ChunkDigest;
import dev.styx.db.StyxDb;
import dev.styx.fetch.ChunkSource;
import dev.styx.fetch.InFlightFetches;
import dev.styx.kernel.SlabFiller;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import dev.styx.slab.SlabStore;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Gets chunks into the slabs: fetch (once, however many callers want a chunk), write the verified
 * bytes at their placement, fdatasync, and only then record presence in the database. The same path
 * serves eager mounts (all chunks of a path) and lazy backends' {@link SlabFiller} requests.
 */
public final class ChunkSupply implements SlabFiller {
  private final StyxDb db;
  private final SlabStore slabs;
  private final Supplier<ChunkSource> source;
  private final InFlightFetches inflight = new InFlightFetches();
  private final Duration fillTimeout;

  public ChunkSupply(
      StyxDb db, SlabStore slabs, Supplier<ChunkSource> source, Duration fillTimeout) {
    this.db = db;
    this.slabs = slabs;
    this.source = source;
    this.fillTimeout = fillTimeout;
  }

  public InFlightFetches inflight() {
    return inflight;
  }

  /**
   * Ensures every placed chunk is present; returns the chunk bytes this call fetched itself (0 when
   * all were present or fetched by concurrent callers).
   */
  public long ensure(Collection<Placement> placements, Instant deadline) throws IOException {
    Map<ChunkDigest, SlabLocation> where = new HashMap<>();
    List<ChunkRef> missing = new ArrayList<>();
    for (Placement p : placements) {
      if (!p.present() && where.putIfAbsent(p.digest(), p.location()) == null) {
        missing.add(new ChunkRef(p.digest(), p.location().length()));
      }
    }
    if (missing.isEmpty()) {
      return 0;
    }
    ChunkSource src = source.get();
    if (src == null) {
      throw new IOException("daemon not initialized: no chunk URL (run styx init)");
    }
    LongAdder bytes = new LongAdder();
    inflight.ensure(
        missing,
        d -> db.lookup(d).map(Placement::present).orElse(false),
        src,
        c -> {
          slabs.write(where.get(c.digest()), c);
          bytes.add(c.length());
        },
        stored -> commit(stored, where),
        deadline);
    return bytes.sum();
  }

  private void commit(Collection<ChunkDigest> stored, Map<ChunkDigest, SlabLocation> where)
      throws IOException {
    Set<Integer> ids = new HashSet<>();
    for (ChunkDigest d : stored) {
      ids.add(where.get(d).slab());
    }
    slabs.sync(ids);
    db.markPresent(stored);
  }

  @Override
  public void fill(int slabId, long offset, long length) throws IOException {
    Instant deadline = Instant.now().plus(fillTimeout);
    List<Placement> need = new ArrayList<>();
    long off = offset;
    long end = offset + Math.max(1, length);
    while (off < end) {
      Optional<Placement> p = db.at(slabId, off);
      if (p.isEmpty()) {
        throw new IOException("slab " + slabId + " offset " + off + " holds no placed chunk");
      }
      need.add(p.get());
      SlabLocation l = p.get().location();
      off = l.offset() + (l.blocks() << SlabLocation.BLOCK_SHIFT);
    }
    ensure(need, deadline);
  }
}
