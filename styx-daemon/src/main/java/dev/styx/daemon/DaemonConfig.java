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
 */
public record DaemonConfig(
    Path cacheDir,
    Path socket,
    String socketMode,
    String backend,
    Duration mountTimeout,
    int fetchConcurrency) {

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
