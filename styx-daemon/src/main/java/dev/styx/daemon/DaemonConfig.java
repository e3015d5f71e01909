package dev.styx.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Daemon settings from the command line.
 *
 * @param cacheDir state directory: {@code db/}, {@code slabs/}, {@code images/}, {@code private/}
 * @param socket API socket path
 * @param socketMode permissions of the socket file, e.g. {@code rw-------}
 * @param backend "auto", "eager", "fanotify" or "cachefiles"
 * @param mountTimeout time limit of one mount (manifest plus all fetches)
 * @param fetchConcurrency most chunk requests in flight
 * @param fdHolder socket of a {@code styx fd-holder} keeping lazy backends' fds, or null
 * @param allowNoFdStore let the fanotify backend run without an fd store (readers may get zeros if
 *     the daemon dies)
 * @param fanotifyDeadline how long one fanotify event may wait for its data before EIO
 * @param fillTimeout time limit of one on-demand fill (fetch of the chunks a read needs)
 */
public record DaemonConfig(
    Path cacheDir,
    Path socket,
    String socketMode,
    String backend,
    Duration mountTimeout,
    int fetchConcurrency,
    Path fdHolder,
    boolean allowNoFdStore,
    Duration fanotifyDeadline,
    Duration fillTimeout) {

  /** Settings with no fd holder and the default lazy-read time limits (60 s). */
  public DaemonConfig(
      Path cacheDir,
      Path socket,
      String socketMode,
      String backend,
      Duration mountTimeout,
      int fetchConcurrency) {
    this(
        cacheDir,
        socket,
        socketMode,
        backend,
        mountTimeout,
        fetchConcurrency,
        null,
        false,
        Duration.ofSeconds(60),
        Duration.ofSeconds(60));
  }

  /** A copy with the lazy-backend settings replaced. */
  public DaemonConfig withLazy(
      Path fdHolder, boolean allowNoFdStore, Duration fanotifyDeadline, Duration fillTimeout) {
    return new DaemonConfig(
        cacheDir,
        socket,
        socketMode,
        backend,
        mountTimeout,
        fetchConcurrency,
        fdHolder,
        allowNoFdStore,
        fanotifyDeadline,
        fillTimeout);
  }

  /** A copy with state in {@code dir} (socket {@code dir/styx.sock}). */
  public DaemonConfig withCache(Path dir) {
    return new DaemonConfig(
        dir,
        dir.resolve("styx.sock"),
        socketMode,
        backend,
        mountTimeout,
        fetchConcurrency,
        fdHolder,
        allowNoFdStore,
        fanotifyDeadline,
        fillTimeout);
  }

  /** A copy using backend {@code name}. */
  public DaemonConfig withBackend(String name) {
    return new DaemonConfig(
        cacheDir,
        socket,
        socketMode,
        name,
        mountTimeout,
        fetchConcurrency,
        fdHolder,
        allowNoFdStore,
        fanotifyDeadline,
        fillTimeout);
  }

  public Path dbDir() {
    return cacheDir.resolve("db");
  }

  public Path slabDir() {
    return cacheDir.resolve("slabs");
  }

  public Path imageDir() {
    return cacheDir.resolve("images");
  }

  public Path privateDir() {
    return cacheDir.resolve("private");
  }
}
