package dev.styx.kernel;

import java.io.IOException;

/**
 * Supplies missing slab data on demand: the daemon's read path (chunk lookup, fetch, digest check,
 * write through the slab's pre-mark fd, presence recorded). Called by lazy backends from their
 * event threads; implementations block until the range is present or fail.
 */
public interface SlabFiller {

  /**
   * Ensures bytes {@code [offset, offset + length)} of slab {@code slabId} are present on disk.
   * Returning normally lets the reader proceed (fanotify FAN_ALLOW, cachefiles READ_COMPLETE);
   * throwing makes the reader see EIO, never zeros or wrong data.
   */
  void fill(int slabId, long offset, long length) throws IOException;
}
