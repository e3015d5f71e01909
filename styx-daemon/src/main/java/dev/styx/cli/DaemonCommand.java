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
      "kernel 6.12+); fanotify and cachefiles serve reads lazily (when available in this",
      "build); auto currently picks eager and logs why.",
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
    Daemon d = Daemon.start(cfg);
    Runtime.getRuntime().addShutdownHook(new Thread(d::close, "styx-shutdown"));
    d.awaitStop();
    return 0;
  }
}
