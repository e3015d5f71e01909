package dev.styx.server;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Recycled byte arrays in a few fixed lengths (chunk buffers, compressed frames), shared by every
 * ingest of a manifester, so a steady stream of ingests allocates no new arrays: a fresh array
 * costs zeroing, GC work and, on a VM, a host fault for every new page. A request gets an array of
 * the smallest class that holds it; a request larger than every class gets a plain array that is
 * not kept. At most {@code maxRetained} bytes wait in the pool, so a burst of concurrent ingests
 * does not pin its peak memory for good. When an array comes back to a full pool, free arrays of
 * the other classes make room for it (largest first), and only when none are left is it left to the
 * GC: the pool follows the size in use. A NAR's large files (256 KiB and 1 MiB chunks) come and go
 * between its small ones, and with one cap and no eviction the arrays of a large file that was done
 * filled the pool, so every 64 KiB buffer after it was a new array (measured on /usr/bin: ~66 MB of
 * new chunk buffers per 303 MB ingest).
 */
final class ArrayPool {
  private final int[] lengths;
  private final List<ConcurrentLinkedQueue<byte[]>> free;
  private final long maxRetained;
  private final AtomicLong retained = new AtomicLong();
  private final AtomicLong allocations = new AtomicLong();

  /**
   * A pool of arrays of the given lengths (ascending), keeping at most {@code maxRetained} bytes.
   */
  ArrayPool(long maxRetained, int... lengths) {
    for (int i = 1; i < lengths.length; i++) {
      if (lengths[i] <= lengths[i - 1]) {
        throw new IllegalArgumentException("array classes must ascend: " + lengths[i]);
      }
    }
    this.lengths = lengths.clone();
    this.maxRetained = maxRetained;
    this.free =
        IntStream.range(0, lengths.length)
            .mapToObj(i -> new ConcurrentLinkedQueue<byte[]>())
            .toList();
  }

  /** A recycled or new array of at least {@code size} bytes. */
  byte[] take(int size) {
    for (int i = 0; i < lengths.length; i++) {
      if (size <= lengths[i]) {
        byte[] b = free.get(i).poll();
        if (b != null) {
          retained.addAndGet(-b.length);
          return b;
        }
        allocations.incrementAndGet();
        return new byte[lengths[i]];
      }
    }
    allocations.incrementAndGet();
    return new byte[size];
  }

  /** Returns an array for reuse; the caller no longer touches it. */
  void give(byte[] b) {
    for (int i = 0; i < lengths.length; i++) {
      if (b.length == lengths[i]) {
        while (retained.addAndGet(b.length) > maxRetained) {
          retained.addAndGet(-b.length);
          if (!evictOtherThan(i)) {
            return; // full of arrays of this very class: leave it to the GC
          }
        }
        free.get(i).offer(b);
        return;
      }
    }
    // not one of our lengths (an oversized request): never kept
  }

  /** Drops one free array of a class other than {@code keep}, largest first; false if none. */
  private boolean evictOtherThan(int keep) {
    for (int j = lengths.length - 1; j >= 0; j--) {
      if (j != keep) {
        byte[] x = free.get(j).poll();
        if (x != null) {
          retained.addAndGet(-x.length);
          return true;
        }
      }
    }
    return false;
  }

  /** Arrays allocated because none of the right class was free (for tests and metrics). */
  long allocations() {
    return allocations.get();
  }

  /** Bytes waiting in the pool. */
  long retainedBytes() {
    return retained.get();
  }
}
