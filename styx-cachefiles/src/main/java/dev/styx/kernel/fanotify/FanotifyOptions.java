package dev.styx.kernel.fanotify;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the fanotify backend.
 *
 * @param eventDeadline how long one event may wait for its fill before it is denied (the reader
 *     then sees EIO instead of hanging)
 * @param journal the in-flight journal file (kept next to the slabs, on persistent storage)
 * @param allowNoFdStore run without systemd's fd store or an fd holder; if the process then dies,
 *     pending readers get zeros and later reads of missing data see holes (zeros) too
 * @param readAheadKb the sequential read-ahead window set on each mount (KiB; 0 keeps the kernel's
 *     128): the upper bound of data one event asks for beyond what a reader touches, and, on the
 *     warm path, the number of round trips per MB
 */
public record FanotifyOptions(
    Duration eventDeadline, Path journal, boolean allowNoFdStore, int readAheadKb) {
  /** Default read-ahead window per mount, KiB. */
  public static final int DEFAULT_READ_AHEAD_KB = 1024;

  /** Default per-event deadline. */
  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(60);

  public FanotifyOptions {
    if (eventDeadline.isNegative() || eventDeadline.isZero()) {
      throw new IllegalArgumentException("event deadline must be positive: " + eventDeadline);
    }
    if (readAheadKb < 0 || readAheadKb > 65536) {
      throw new IllegalArgumentException("read-ahead must be 0..65536 KiB: " + readAheadKb);
    }
  }

  /** Defaults with the journal at {@code journal}. */
  public static FanotifyOptions defaults(Path journal) {
    return new FanotifyOptions(DEFAULT_DEADLINE, journal, false, DEFAULT_READ_AHEAD_KB);
  }
}
