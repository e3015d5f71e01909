package dev.styx.daemon;

import dev.styx.chunk.ChunkDigest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEntry;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * For lazy reads: which file of a mounted image a slab chunk belongs to and which chunks follow it
 * in that file, so that read-ahead goes along the file being read rather than along the slab. A
 * chunk shared by several files keeps the file registered last; that only steers read-ahead.
 */
final class FileRuns {
  /**
   * The placements of one file's chunks, in file order, and the read-ahead state of that file: like
   * the kernel's, the window starts small and doubles while fills keep following each other.
   */
  static final class Run {
    private final List<Placement> chunks;
    private int lastIndex = -2;
    private int aheadEnd;
    private long window;

    Run(List<Placement> chunks) {
      this.chunks = chunks;
    }

    List<Placement> chunks() {
      return chunks;
    }

    /**
     * After a fill ending at chunk {@code index}: the chunk indexes {@code [from, to)} to read
     * ahead, not yet asked for. The window is {@code initial} bytes (at most {@code initialChunks})
     * for a fill that does not follow the previous one, doubling per sequential fill up to {@code
     * max} bytes ({@code maxChunks}); it never goes past the file's last chunk.
     */
    synchronized int[] advance(
        int index, long initial, int initialChunks, long max, int maxChunks) {
      boolean sequential =
          lastIndex >= -1 && index >= lastIndex && index <= Math.max(lastIndex + 1, aheadEnd);
      window = sequential ? Math.min(Math.max(window, initial) * 2, max) : initial;
      int chunkLimit =
          (int) Math.min(maxChunks, (long) initialChunks * Math.max(1, window / initial));
      lastIndex = index;
      int to = index + 1;
      long bytes = 0;
      while (to < chunks.size() && to - index - 1 < chunkLimit && bytes < window) {
        bytes += chunks.get(to).location().length();
        to++;
      }
      int from = sequential ? Math.max(index + 1, aheadEnd) : index + 1;
      aheadEnd = sequential ? Math.max(aheadEnd, to) : to;
      return new int[] {Math.min(from, to), to};
    }
  }

  /** One chunk's position in its file. */
  record At(Run run, int index) {}

  private final ConcurrentHashMap<Integer, ConcurrentSkipListMap<Long, At>> bySlab =
      new ConcurrentHashMap<>();

  /** Registers every chunked file of {@code m}, given where its chunks are placed. */
  void register(Manifest m, Map<ChunkDigest, Placement> placements) {
    for (ManifestEntry e : m.entries()) {
      if (!(e instanceof ManifestEntry.ChunkedFile f) || f.digests().size() < 2) {
        continue; // a one-chunk file has nothing to read ahead
      }
      List<Placement> ps = new ArrayList<>(f.digests().size());
      for (ChunkDigest d : f.digests()) {
        Placement p = placements.get(d);
        if (p == null) {
          return; // not placed (cannot happen for a built image); no read-ahead then
        }
        ps.add(p);
      }
      Run run = new Run(List.copyOf(ps));
      for (int i = 0; i < ps.size(); i++) {
        SlabLocation l = ps.get(i).location();
        bySlab
            .computeIfAbsent(l.slab(), k -> new ConcurrentSkipListMap<>())
            .put(l.block(), new At(run, i));
      }
    }
  }

  /** The file position of the chunk at {@code loc}, or null if no mounted file is known there. */
  At at(SlabLocation loc) {
    ConcurrentSkipListMap<Long, At> m = bySlab.get(loc.slab());
    return m == null ? null : m.get(loc.block());
  }

  /** The file position of the chunk covering byte {@code offset} of a slab, or null. */
  At covering(int slab, long offset) {
    ConcurrentSkipListMap<Long, At> m = bySlab.get(slab);
    if (m == null) {
      return null;
    }
    Map.Entry<Long, At> e = m.floorEntry(offset >>> SlabLocation.BLOCK_SHIFT);
    if (e == null) {
      return null;
    }
    At at = e.getValue();
    return at.run().chunks().get(at.index()).location().covers(offset) ? at : null;
  }
}
