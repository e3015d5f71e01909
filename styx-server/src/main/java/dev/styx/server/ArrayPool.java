package dev.styx.server;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Recycled byte arrays of one ingest (chunk buffers, compressed frames), so a large NAR does not
 * churn the heap: small requests share one size, large ones get arrays at least as big as asked.
 */
final class ArrayPool {
  private final int small;
  private final ConcurrentLinkedQueue<byte[]> smalls = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<byte[]> larges = new ConcurrentLinkedQueue<>();

  /** A pool whose requests up to {@code small} bytes all get {@code small}-byte arrays. */
  ArrayPool(int small) {
    this.small = small;
  }

  /** A recycled or new array of at least {@code size} bytes. */
  byte[] take(int size) {
    ConcurrentLinkedQueue<byte[]> q = size <= small ? smalls : larges;
    byte[] b = q.poll();
    while (b != null && b.length < size) {
      b = q.poll(); // a 256 KiB chunk's array for a 1 MiB chunk: drop it
    }
    return b != null ? b : new byte[Math.max(size, small)];
  }

  /** Returns an array for reuse; the caller no longer touches it. */
  void give(byte[] b) {
    (b.length <= small ? smalls : larges).offer(b);
  }
}
