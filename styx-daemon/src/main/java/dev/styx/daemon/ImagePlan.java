package dev.styx.daemon;

import dev.styx.chunk.ChunkDigest;
import dev.styx.erofs.ChunkLocation;
import dev.styx.erofs.ErofsDevice;
import dev.styx.erofs.ErofsImage;
import dev.styx.erofs.ErofsNode;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEntry;
import dev.styx.manifest.ManifestPaths;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How a manifest becomes an EROFS image over the slabs: the tree with every chunk pointing at its
 * placement, and the device table (slabs in order of first use). A store path whose root is a
 * regular file becomes a one-entry directory ({@link #BARE_NAME}), later bind-mounted out; a
 * symlink root needs no image at all.
 */
public final class ImagePlan {
  /** Name of the single file in the image of a store path whose root is a regular file. */
  public static final String BARE_NAME = "___bare___";

  /** Root kinds, as recorded in the database. */
  public enum Kind {
    DIRECTORY,
    FILE,
    SYMLINK;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private ImagePlan() {}

  /** Root kind of a manifest. */
  public static Kind kind(Manifest m) {
    return switch (m.entries().getFirst()) {
      case ManifestEntry.Directory d -> Kind.DIRECTORY;
      case ManifestEntry.Symlink s -> Kind.SYMLINK;
      default -> Kind.FILE;
    };
  }

  /** The symlink target of a symlink-rooted manifest. */
  public static String symlinkTarget(Manifest m) {
    if (!(m.entries().getFirst() instanceof ManifestEntry.Symlink s)) {
      throw new IllegalArgumentException(m.storePath() + " is not a symlink");
    }
    return s.target();
  }

  /** Every distinct chunk of the manifest, in first-use order. */
  public static List<ChunkRef> chunks(Manifest m) {
    Map<ChunkDigest, ChunkRef> out = new LinkedHashMap<>();
    for (ManifestEntry e : m.entries()) {
      if (e instanceof ManifestEntry.ChunkedFile f) {
        for (int i = 0; i < f.digests().size(); i++) {
          ChunkDigest d = f.digests().get(i);
          out.putIfAbsent(d, new ChunkRef(d, f.chunkLength(i)));
        }
      }
    }
    return new ArrayList<>(out.values());
  }

  /**
   * Slab ids of the device table for these placements (distinct chunks in first-use order): each
   * slab in order of its first use, as {@link #build} numbers the devices.
   */
  public static List<Integer> slabsInDeviceOrder(List<Placement> placed) {
    List<Integer> out = new ArrayList<>();
    for (Placement p : placed) {
      if (!out.contains(p.location().slab())) {
        out.add(p.location().slab());
      }
    }
    return out;
  }

  /** The image plus the slab ids of its device table, in device order. */
  public record Built(ErofsImage image, List<Integer> slabs) {}

  /** Builds the image tree of {@code m} given where each of its chunks is placed. */
  public static Built build(Manifest m, Map<ChunkDigest, Placement> placements) {
    List<Integer> slabs = new ArrayList<>();
    Map<Integer, Integer> device = new HashMap<>();
    Map<String, List<Child>> children = new HashMap<>();
    ErofsNode bare = null;
    for (ManifestEntry e : m.entries()) {
      ErofsNode node =
          switch (e) {
            case ManifestEntry.Directory d -> null;
            case ManifestEntry.InlineFile f -> new ErofsNode.InlineFile(f.data(), f.executable());
            case ManifestEntry.Symlink s ->
                new ErofsNode.Symlink(s.target().getBytes(StandardCharsets.UTF_8));
            case ManifestEntry.ChunkedFile f -> {
              List<ChunkLocation> locs = new ArrayList<>(f.digests().size());
              for (ChunkDigest d : f.digests()) {
                Placement p = placements.get(d);
                if (p == null) {
                  throw new IllegalStateException("chunk " + d + " of " + f.path() + " not placed");
                }
                SlabLocation l = p.location();
                Integer dev = device.get(l.slab());
                if (dev == null) {
                  slabs.add(l.slab());
                  dev = slabs.size();
                  device.put(l.slab(), dev);
                }
                locs.add(new ChunkLocation(dev, l.block()));
              }
              yield new ErofsNode.ChunkedFile(f.size(), f.chunkShift(), locs, f.executable());
            }
          };
      if (e.path().equals("/")) {
        bare = node;
        continue;
      }
      children
          .computeIfAbsent(ManifestPaths.parent(e.path()), k -> new ArrayList<>())
          .add(new Child(ManifestPaths.name(e.path()), node, node == null ? e.path() : null));
    }
    ErofsNode.Directory root;
    if (bare != null) {
      if (bare instanceof ErofsNode.Symlink) {
        throw new IllegalArgumentException("a symlink store path has no image");
      }
      root = ErofsNode.Directory.of(new ErofsNode.Entry(BARE_NAME, bare));
    } else {
      root = directory("/", children);
    }
    List<ErofsDevice> devices = new ArrayList<>();
    for (int s : slabs) {
      devices.add(new ErofsDevice("styx-slab-" + s, SlabLocation.SLAB_BLOCKS));
    }
    UUID uuid = UUID.nameUUIDFromBytes(m.storePath().getBytes(StandardCharsets.UTF_8));
    return new Built(
        new ErofsImage(root, devices, uuid, "styx-" + m.hashPart().substring(0, 10)), slabs);
  }

  /** A directory child: a finished node, or a subdirectory (built after its own children). */
  private record Child(String name, ErofsNode node, String dirPath) {}

  private static ErofsNode.Directory directory(String path, Map<String, List<Child>> children) {
    List<ErofsNode.Entry> out = new ArrayList<>();
    for (Child c : children.getOrDefault(path, List.of())) {
      out.add(
          new ErofsNode.Entry(
              c.name(), c.node() != null ? c.node() : directory(c.dirPath(), children)));
    }
    return new ErofsNode.Directory(out);
  }
}
