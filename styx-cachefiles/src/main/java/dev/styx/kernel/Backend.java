package dev.styx.kernel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * How images reach the kernel and how the kernel's reads of missing slab data reach the daemon. One
 * implementation per kernel mechanism (eager, fanotify, cachefiles); the slab store, the chunk
 * index and the fetch logic are shared and sit behind {@link SlabFiller}.
 *
 * <p>Order of calls: {@link #start} once, {@link #attachSlab} for a slab before any image that uses
 * it is mounted (fanotify must mark a slab before the mount opens it), then {@link #mount} / {@link
 * #unmount} per image, {@link #close} at shutdown.
 */
public interface Backend extends AutoCloseable {

  /** Short name as given to {@code --backend}: "eager", "fanotify" or "cachefiles". */
  String name();

  /** Whether reads of missing data are served on demand (false: everything is fetched first). */
  boolean lazy();

  /**
   * Whether this backend's mounts read the slab files themselves (file-backed EROFS with {@code
   * device=<slab>}); then the slabs can be written with O_DIRECT and mounted {@code directio}, see
   * {@link FileBackedMount#directIo}. False for cachefiles, which copies slab data into its own
   * cache files.
   */
  boolean mountsSlabFiles();

  /** Starts the backend; {@code filler} supplies missing slab ranges on demand. */
  void start(SlabFiller filler) throws IOException;

  /** Makes a slab usable by later mounts (fanotify: marks it for pre-content events). */
  void attachSlab(Slab slab) throws IOException;

  /**
   * Mounts {@code image} (an EROFS image file whose device table lists {@code slabs} in order) on
   * {@code target}, read-only.
   */
  void mount(Path image, List<Slab> slabs, Path target) throws IOException;

  /** Unmounts {@code target} (lazily detached if busy). */
  void unmount(Path target) throws IOException;

  @Override
  void close() throws IOException;

  /**
   * A slab as the kernel side sees it: its index in the daemon's slab table, its backing file, an
   * fd opened for writing before any fanotify mark (writes through a later fd would raise their own
   * pre-content events and deadlock), and whether that fd writes with O_DIRECT (then file-backed
   * EROFS mounts read the slab with direct I/O too, see {@link FileBackedMount}).
   */
  record Slab(int id, Path file, int writeFd, boolean directIo) {
    /** A slab written through the page cache. */
    public Slab(int id, Path file, int writeFd) {
      this(id, file, writeFd, false);
    }
  }
}
