package dev.styx.daemon;

import dev.styx.slab.SlabLocation;
import java.util.BitSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which slab blocks hold verified chunk data readers may be let through to, in memory: lets a lazy
 * backend answer reads of present data on its event thread without I/O. Filled as chunks are
 * written (before their commit makes them durable: the bytes are in the page cache already) or
 * found present in the database; emptied for chunks whose commit failed. A block missing here only
 * means "ask the database", never "absent".
 */
final class PresenceMap {
  private final ConcurrentHashMap<Integer, BitSet> slabs = new ConcurrentHashMap<>();

  /** Records the blocks of {@code loc} (the chunk plus its zero padding) as present. */
  void add(SlabLocation loc) {
    BitSet b = slabs.computeIfAbsent(loc.slab(), k -> new BitSet());
    int from = Math.toIntExact(loc.block());
    synchronized (b) {
      b.set(from, Math.toIntExact(from + loc.blocks()));
    }
  }

  /** Forgets the blocks of {@code loc} (its commit failed: the next read fetches it again). */
  void remove(SlabLocation loc) {
    BitSet b = slabs.get(loc.slab());
    if (b != null) {
      int from = Math.toIntExact(loc.block());
      synchronized (b) {
        b.clear(from, Math.toIntExact(from + loc.blocks()));
      }
    }
  }

  /** Whether every block touching bytes {@code [offset, offset + length)} is known present. */
  boolean covers(int slab, long offset, long length) {
    BitSet b = slabs.get(slab);
    if (b == null || length <= 0 || offset < 0) {
      return false;
    }
    long first = offset >>> SlabLocation.BLOCK_SHIFT;
    long end = ((offset + length - 1) >>> SlabLocation.BLOCK_SHIFT) + 1;
    if (end > SlabLocation.SLAB_BLOCKS) {
      return false;
    }
    synchronized (b) {
      return b.nextClearBit((int) first) >= end;
    }
  }
}
