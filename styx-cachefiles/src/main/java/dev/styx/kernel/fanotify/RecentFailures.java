package dev.styx.kernel.fanotify;

import dev.styx.kernel.FileId;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Ranges whose fill just missed its deadline, remembered briefly so that the kernel's retries fail
 * at once: a denied read-ahead is followed by a synchronous read of the same page, which would
 * otherwise wait out the deadline again, and the reader would see EIO only after two or three
 * deadlines.
 */
final class RecentFailures {
  private record Failure(FileId file, long start, long end, long expires) {}

  private static final int MAX = 256;
  private final long windowNanos;
  private final ArrayDeque<Failure> failures = new ArrayDeque<>();

  RecentFailures(long windowNanos) {
    this.windowNanos = windowNanos;
  }

  /** Remembers that {@code [offset, offset + count)} of {@code file} failed at {@code now}. */
  synchronized void record(FileId file, long offset, long count, long now) {
    if (failures.size() == MAX) {
      failures.pollFirst();
    }
    failures.addLast(new Failure(file, offset, offset + Math.max(1, count), now + windowNanos));
  }

  /** Whether a failure still remembered at {@code now} overlaps the range. */
  synchronized boolean overlaps(FileId file, long offset, long count, long now) {
    long end = offset + Math.max(1, count);
    for (Iterator<Failure> it = failures.iterator(); it.hasNext(); ) {
      Failure f = it.next();
      if (f.expires() - now <= 0) {
        it.remove();
      } else if (f.file().equals(file) && f.start() < end && offset < f.end()) {
        return true;
      }
    }
    return false;
  }
}
