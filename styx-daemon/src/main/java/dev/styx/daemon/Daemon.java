package dev.styx.daemon;

import dev.styx.api.ApiRoutes;
import dev.styx.api.ApiServer;
import dev.styx.db.ImageState;
import dev.styx.db.StyxDb;
import dev.styx.erofs.ErofsWriter;
import dev.styx.kernel.Backend;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.slab.SlabStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running daemon: database, slabs, backend, mount service and API socket, started in that
 * order; images recorded as mounted are brought back before systemd hears READY=1. {@link #close}
 * (also run on SIGTERM) stops the API and closes everything; mounts stay, as the kernel holds them.
 */
public final class Daemon implements AutoCloseable {
  /**
   * {@code -Dstyx.slab.directIo=false} (STYX_JAVA_OPTS, JAVA_TOOL_OPTIONS; NixOS: {@code
   * services.styx.slabDirectIo = false}) keeps slabs and file-backed mounts on the page cache
   * instead of direct I/O; an operator's escape hatch, not needed where O_DIRECT works.
   */
  public static final String DIRECT_IO_PROPERTY = "styx.slab.directIo";

  private static final Logger log = LoggerFactory.getLogger(Daemon.class);

  private final DaemonConfig config;
  private final StyxDb db;
  private final SlabStore slabs;
  private final Backend backend;
  private final MountService service;
  private final ApiServer api;
  private final SystemdNotify notify;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean closed;

  private Daemon(
      DaemonConfig config,
      StyxDb db,
      SlabStore slabs,
      Backend backend,
      MountService service,
      ApiServer api,
      SystemdNotify notify) {
    this.config = config;
    this.db = db;
    this.slabs = slabs;
    this.backend = backend;
    this.service = service;
    this.api = api;
    this.notify = notify;
  }

  /** Starts a daemon; returns once it serves requests and has restored recorded mounts. */
  public static Daemon start(DaemonConfig config) throws IOException {
    return start(config, ErofsWriter::write, SystemdNotify.fromEnv());
  }

  public static Daemon start(DaemonConfig config, ImageEncoder encoder, SystemdNotify notify)
      throws IOException {
    if (!Files.isDirectory(config.cacheDir())) {
      Files.createDirectories(
          config.cacheDir(),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    notify.status("opening " + config.cacheDir());
    Backend backend = Backends.create(config);
    StyxDb db = StyxDb.open(config.dbDir());
    SlabStore slabs = null;
    MountService service = null;
    ApiServer api = null;
    try {
      // A restarted fanotify daemon must reuse the slab write fds opened before the marks.
      // Backends whose mounts read the slab files get direct-I/O slabs (FileBackedMount#directIo).
      boolean directIo =
          backend.mountsSlabFiles()
              && Boolean.parseBoolean(System.getProperty(DIRECT_IO_PROPERTY, "true"));
      slabs =
          backend instanceof FanotifyBackend fb
              ? SlabStore.open(config.slabDir(), fb::restoredWriteFd, directIo)
              : SlabStore.open(config.slabDir(), id -> java.util.OptionalInt.empty(), directIo);
      service = new MountService(config, db, slabs, backend, encoder);
      if (backend.lazy()) {
        service.supply().loadPresence();
      }
      backend.start(service.supply());
      api = new ApiServer(config.socket(), new ApiRoutes(service), config.socketMode());
      api.start();
      Daemon d = new Daemon(config, db, slabs, backend, service, api, notify);
      notify.status("restoring mounts");
      service.restore();
      long mounted = db.images().stream().filter(r -> r.state() == ImageState.MOUNTED).count();
      String status = "ready: " + mounted + " store paths mounted, backend " + backend.name();
      log.info("styx daemon {} (cache {}, socket {})", status, config.cacheDir(), config.socket());
      notify.ready(status);
      return d;
    } catch (IOException | RuntimeException e) {
      if (api != null) {
        api.close();
      }
      backend.close();
      if (service != null) {
        service.close();
      }
      if (slabs != null) {
        slabs.close();
      }
      db.close();
      throw e;
    }
  }

  public MountService service() {
    return service;
  }

  public DaemonConfig config() {
    return config;
  }

  /** The metadata database (tests and diagnostics). */
  StyxDb db() {
    return db;
  }

  /** The slab files (tests and diagnostics). */
  SlabStore slabs() {
    return slabs;
  }

  /** Blocks until {@link #close} has run. */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    notify.stopping();
    log.info("styx daemon stopping (mounts stay in place)");
    api.close();
    // The backend first: once it is closed, fills still running are left unanswered (journaled for
    // the next daemon) instead of failing against a closed fetch client and answering EIO.
    try {
      backend.close();
    } catch (IOException e) {
      log.warn("backend close: {}", e.toString());
    }
    service.close();
    try {
      slabs.close();
    } catch (IOException e) {
      log.warn("slab close: {}", e.toString());
    }
    db.close();
    stopped.countDown();
    log.info("styx daemon stopped");
  }
}
