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

  /**
   * Whether bytes {@code [offset, offset + length)} of slab {@code slabId} are known present,
   * answered from memory without blocking or I/O (e.g. the presence bitmap). Lazy backends call it
   * on their event thread to answer warm reads without a hand-off; false (the default) just means
   * "ask {@link #fill}".
   */
  default boolean isPresent(int slabId, long offset, long length) {
    return false;
  }
}
