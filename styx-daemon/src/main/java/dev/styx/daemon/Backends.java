package dev.styx.daemon;

import dev.styx.kernel.Backend;
import dev.styx.kernel.EagerBackend;
import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.cachefiles.CachefilesBackend;
import dev.styx.kernel.cachefiles.CachefilesOptions;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.kernel.fdstore.FdStore;
import dev.styx.kernel.fdstore.HolderFdStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the kernel backend named by {@code --backend}. {@code auto} probes rather than guessing
 * from the kernel version: cachefiles if the fd store hands back an earlier daemon's {@code
 * /dev/cachefiles} fd or the cachefiles probe passes, else fanotify if pre-content marks work on
 * the slab directory and an fd store exists (systemd or {@code --fd-holder}), else eager.
 */
public final class Backends {
  private static final Logger log = LoggerFactory.getLogger(Backends.class);
  private static final Duration HOLDER_WAIT = Duration.ofSeconds(30);
  private static final int ENOENT = 2;
  private static final int ECONNREFUSED = 111;

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
    // One store for whichever backend is picked: a second connection to the holder would receive
    // every held fd again.
    FdStore store = fdStore(config);
    try {
      Backend b = pick(config, store);
      if (b instanceof EagerBackend) {
        release(store);
      }
      return b;
    } catch (IOException | RuntimeException e) {
      release(store);
      throw e;
    }
  }

  private static Backend pick(DaemonConfig config, FdStore store) throws IOException {
    CachefilesOptions cf = CachefilesOptions.fromEnvironment();
    if (CachefilesBackend.holdsDevnode(store)) {
      // /dev/cachefiles allows one open at a time and the store has it: probing would get EBUSY.
      log.info(
          "backend auto: cachefiles (the {} holds the /dev/cachefiles fd of an earlier daemon:"
              + " taking it back to restore its requests)",
          store.describe());
      return new CachefilesBackend(cf, store);
    }
    Optional<String> noCachefiles = CachefilesBackend.probe(cf.cacheDir(), null);
    if (noCachefiles.isEmpty()) {
      log.info(
          "backend auto: cachefiles (on-demand EROFS over /dev/cachefiles: probe passed; fd store:"
              + " {})",
          store == null ? "none" : store.describe());
      return new CachefilesBackend(cf, store);
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
    if (store == null && !config.allowNoFdStore()) {
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
        store == null ? "none" : store.describe(),
        noCachefiles.get());
    return fanotify(config, store);
  }

  private static Backend fanotify(DaemonConfig config) throws IOException {
    slabDir(config);
    FdStore store =
        config.fdHolder() != null
            ? connectHolder(config.fdHolder())
            : FdStore.detect(null).orElse(null);
    return fanotify(config, store);
  }

  private static Backend fanotify(DaemonConfig config, FdStore store) {
    return FanotifyBackend.create(
        config.slabDir(), store, config.allowNoFdStore(), config.fanotifyDeadline());
  }

  private static Backend cachefiles(DaemonConfig config) throws IOException {
    return new CachefilesBackend(CachefilesOptions.fromEnvironment(), fdStore(config));
  }

  /**
   * The fd store lazy backends keep their fds in: {@code --fd-holder}, else the holder at {@code
   * $STYX_FD_HOLDER}, else systemd's ({@code $NOTIFY_SOCKET}), else null.
   */
  private static FdStore fdStore(DaemonConfig config) throws IOException {
    if (config.fdHolder() != null) {
      return connectHolder(config.fdHolder());
    }
    return CachefilesBackend.defaultFdStore();
  }

  /**
   * Connects to the holder at {@code socket}, waiting up to {@link #HOLDER_WAIT} while it is not
   * listening yet (no socket file, or connection refused): a holder started alongside the daemon
   * must not lose a race with it.
   */
  static FdStore connectHolder(Path socket) throws IOException {
    long until = System.nanoTime() + HOLDER_WAIT.toNanos();
    boolean told = false;
    while (true) {
      try {
        return HolderFdStore.connect(socket);
      } catch (IOException e) {
        boolean notYet =
            e.getCause() instanceof SyscallException s
                && (s.errno() == ENOENT || s.errno() == ECONNREFUSED);
        if (!notYet || System.nanoTime() - until > 0) {
          throw e;
        }
        if (!told) {
          log.info(
              "fd holder at {} not listening yet; waiting up to {} s",
              socket,
              HOLDER_WAIT.toSeconds());
          told = true;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  // Fds a holder sent are this process's own copies (the holder keeps its originals); systemd's
  // inherited fds are left alone, as before auto looked at the store.
  private static void release(FdStore store) {
    if (store == null) {
      return;
    }
    if (store instanceof HolderFdStore) {
      for (String name : store.untaken().keySet()) {
        store.take(name).ifPresent(Backends::closeQuietly);
      }
    }
    store.close();
  }

  private static void closeQuietly(int fd) {
    try {
      Syscalls.close(fd);
    } catch (IOException e) {
      log.debug("close({}) failed: {}", fd, e.getMessage());
    }
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
