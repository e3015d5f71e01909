package dev.styx.cli;

import dev.styx.daemon.Daemon;
import dev.styx.daemon.DaemonConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code styx daemon}: runs the client daemon until SIGTERM. */
@Command(
    name = "daemon",
    mixinStandardHelpOptions = true,
    description = {
      "Run the Styx daemon: serves the API on a Unix socket, mounts store paths as EROFS images",
      "over shared slab files, and fetches chunks from the chunk server.",
      "",
      "State lives in --cache-dir (LMDB metadata in db/, slab files in slabs/, images in images/).",
      "At start-up every image recorded as mounted is mounted again. Under systemd",
      "(Type=notify) READY=1 is sent once the socket is up and mounts are restored; SIGTERM",
      "stops the daemon cleanly and leaves the mounts in place.",
      "",
      "Backends: eager fetches every chunk of a path before mounting it (file-backed EROFS,",
      "kernel 6.12+); fanotify (stock kernel 6.14+) and cachefiles serve reads lazily: mounting",
      "fetches only the manifest, each read of missing data waits for its chunks. auto probes",
      "(never guesses from the kernel version): cachefiles if its probe passes, else fanotify if",
      "pre-content marks work on the slab directory and an fd store exists (systemd, or",
      "--fd-holder), else eager; it logs why in one line.",
      "",
      "fanotify keeps its notification group and slab write fds in systemd's fd store or in a",
      "`styx fd-holder` process: if the daemon dies, readers of missing data wait for the next",
      "daemon instead of reading zeros. It refuses to run without one unless",
      "--fanotify-allow-no-fdstore is given.",
    })
final class DaemonCommand implements Callable<Integer> {
  @Option(
      names = "--cache-dir",
      defaultValue = "/var/cache/styx",
      description = "State directory (default: ${DEFAULT-VALUE}).")
  Path cacheDir;

  @Option(
      names = "--socket",
      description = "API socket (default: <cache-dir>/styx.sock, root only).")
  Path socket;

  @Option(
      names = "--socket-mode",
      defaultValue = "rw-------",
      description = "Permissions of the socket file (default: ${DEFAULT-VALUE}).")
  String socketMode;

  @Option(
      names = "--backend",
      defaultValue = "auto",
      description = "auto, eager, fanotify or cachefiles (default: ${DEFAULT-VALUE}).")
  String backend;

  @Option(
      names = "--mount-timeout",
      defaultValue = "120",
      description =
          "Seconds one mount may take, manifest and chunk fetches included (default: ${DEFAULT-VALUE}).")
  int mountTimeoutSeconds;

  @Option(
      names = "--fetch-concurrency",
      defaultValue = "16",
      description = "Chunk requests in flight at most (default: ${DEFAULT-VALUE}).")
  int fetchConcurrency;

  @Option(
      names = "--fd-holder",
      paramLabel = "PATH",
      description = "Socket of a `styx fd-holder` keeping lazy backends' fds (no systemd).")
  Path fdHolder;

  @Option(
      names = "--fanotify-allow-no-fdstore",
      description =
          "Run fanotify without an fd store (if the daemon dies, pending readers get zeros).")
  boolean allowNoFdStore;

  @Option(
      names = "--fanotify-deadline",
      defaultValue = "60s",
      paramLabel = "DURATION",
      description =
          "Longest a read of missing data waits before it fails with EIO, e.g. 30s, 2m"
              + " (default: ${DEFAULT-VALUE}).")
  String fanotifyDeadline;

  @Option(
      names = "--fill-timeout",
      defaultValue = "60s",
      paramLabel = "DURATION",
      description =
          "Time limit of one on-demand fetch of the chunks a read needs (default: ${DEFAULT-VALUE}).")
  String fillTimeout;

  /** Parses 90, 90s, 500ms, 2m or an ISO-8601 duration (PT90S). */
  static Duration duration(String option, String v) {
    String s = v.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (s.startsWith("pt")) {
        return Duration.parse(s.toUpperCase(java.util.Locale.ROOT));
      }
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      if (s.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
      }
      if (s.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
      }
      return Duration.ofSeconds(Long.parseLong(s));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          option + ": not a duration (use e.g. 30s, 500ms, 2m): " + v);
    }
  }

  @Override
  public Integer call() throws Exception {
    Path cache = cacheDir.toAbsolutePath();
    DaemonConfig cfg =
        new DaemonConfig(
            cache,
            socket == null ? cache.resolve("styx.sock") : socket.toAbsolutePath(),
            socketMode,
            backend,
            Duration.ofSeconds(mountTimeoutSeconds),
            fetchConcurrency);
    cfg =
        cfg.withLazy(
            fdHolder == null ? null : fdHolder.toAbsolutePath(),
            allowNoFdStore,
            duration("--fanotify-deadline", fanotifyDeadline),
            duration("--fill-timeout", fillTimeout));
    Daemon d = Daemon.start(cfg);
    Runtime.getRuntime().addShutdownHook(new Thread(d::close, "styx-shutdown"));
    d.awaitStop();
    return 0;
  }
}
