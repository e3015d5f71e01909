package dev.styx.daemon;

import dev.styx.kernel.Backend;
import dev.styx.kernel.EagerBackend;
import dev.styx.kernel.cachefiles.CachefilesBackend;
import dev.styx.kernel.cachefiles.CachefilesOptions;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.kernel.fdstore.FdStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the kernel backend named by {@code --backend}. {@code auto} probes rather than guessing
 * from the kernel version: cachefiles if its probe passes, else fanotify if pre-content marks work
 * on the slab directory and an fd store exists (systemd or {@code --fd-holder}), else eager.
 */
public final class Backends {
  private static final Logger log = LoggerFactory.getLogger(Backends.class);

  private Backends() {}

  /** Creates the backend for {@code config.backend()}: auto, eager, fanotify or cachefiles. */
  public static Backend create(DaemonConfig config) throws IOException {
    return switch (config.backend()) {
      case "auto" -> auto(config);
      case "eager" -> new EagerBackend();
      case "fanotify" -> fanotify(config);
      case "cachefiles" -> cachefiles(config);
      default ->
          throw new IllegalArgumentException(
              "unknown backend '"
                  + config.backend()
                  + "' (use auto, eager, fanotify or cachefiles)");
    };
  }

  private static Backend auto(DaemonConfig config) throws IOException {
    Optional<String> noCachefiles = CachefilesBackend.probe();
    if (noCachefiles.isEmpty()) {
      log.info("backend auto: cachefiles (on-demand EROFS over /dev/cachefiles: probe passed)");
      return cachefiles(config);
    }
    Path slabDir = slabDir(config);
    Optional<String> noFanotify = FanotifyBackend.probe(slabDir);
    if (noFanotify.isPresent()) {
      log.info(
          "backend auto: eager (cachefiles: {}; fanotify: {})",
          noCachefiles.get(),
          noFanotify.get());
      return new EagerBackend();
    }
    boolean store = config.fdHolder() != null || System.getenv("NOTIFY_SOCKET") != null;
    if (!store && !config.allowNoFdStore()) {
      log.info(
          "backend auto: eager (cachefiles: {}; fanotify works on {} but there is no fd store to"
              + " keep its group alive across a daemon crash: run under systemd or pass"
              + " --fd-holder, or --fanotify-allow-no-fdstore to accept the risk)",
          noCachefiles.get(),
          slabDir);
      return new EagerBackend();
    }
    log.info(
        "backend auto: fanotify (pre-content marks work on {}, fd store: {}; cachefiles: {})",
        slabDir,
        store ? (config.fdHolder() != null ? "fd holder " + config.fdHolder() : "systemd") : "none",
        noCachefiles.get());
    return fanotify(config);
  }

  private static Backend fanotify(DaemonConfig config) throws IOException {
    slabDir(config);
    return FanotifyBackend.create(
        config.slabDir(), config.fdHolder(), config.allowNoFdStore(), config.fanotifyDeadline());
  }

  private static Backend cachefiles(DaemonConfig config) throws IOException {
    if (config.fdHolder() == null) {
      return new CachefilesBackend();
    }
    return new CachefilesBackend(
        CachefilesOptions.fromEnvironment(), FdStore.detect(config.fdHolder()).orElseThrow());
  }

  /** The slab directory, created (mode 0700) so that it can be probed before the store opens. */
  private static Path slabDir(DaemonConfig config) throws IOException {
    Path dir = config.slabDir();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    return dir;
  }
}
