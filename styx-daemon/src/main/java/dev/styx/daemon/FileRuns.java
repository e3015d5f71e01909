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
  /** The placements of one file's chunks, in file order. */
  record Run(List<Placement> chunks) {}

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
}
