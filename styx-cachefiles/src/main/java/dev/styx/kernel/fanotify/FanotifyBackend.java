package dev.styx.kernel.fanotify;

import dev.styx.kernel.Backend;
import dev.styx.kernel.FileBackedMount;
import dev.styx.kernel.FileId;
import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.fdstore.FdStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazy loading on stock kernels (6.14+): images are mounted file-backed with each slab as a {@code
 * device=} file, a {@code FAN_CLASS_PRE_CONTENT} group marks every slab with {@code
 * FAN_PRE_ACCESS}, and each read of a slab range first raises an event that is answered {@code
 * FAN_ALLOW} once the {@link SlabFiller} has made the range present, or denied with EIO when the
 * fill fails or misses its deadline. Never zeros: that is what the three kernel hazards are about.
 *
 * <ul>
 *   <li>A dying group answers pending events ALLOW (readers get zeros): the group fd is kept in an
 *       {@link FdStore} (systemd or the fd holder) so it outlives this process, in-flight events
 *       are journaled, and a restarted backend takes the fd back and answers them by fd number.
 *   <li>A mount made before its slab was marked never raises events: {@link #mount} refuses slabs
 *       that were not {@link #attachSlab attached}.
 *   <li>Writing through an fd opened after marking deadlocks on its own event: fills go through
 *       {@link Slab#writeFd}, opened before marking, which is also kept in the fd store (name
 *       {@link #slabFdName}) and handed back by {@link #restoredWriteFd} after a restart.
 * </ul>
 *
 * <p>Events are read on one platform thread; each is served on a virtual thread bounded by the
 * per-event deadline.
 */
public final class FanotifyBackend implements Backend {
  /** The fd store name of the notification group. */
  public static final String GROUP_FD_NAME = "fanotify";

  private static final Logger LOG = LoggerFactory.getLogger(FanotifyBackend.class);
  private static final int O_PATH = 010000000;
  private static final int EAGAIN = 11;
  private static final int EINVAL = 22;
  private static final int ENOENT = 2;
  private static final long CLOSE_GRACE_NANOS = 5_000_000_000L;
  private static final long FAILURE_MEMORY_NANOS = 2_000_000_000L;

  private final FanotifyOptions options;
  private final FdStore fdStore;
  private final Map<FileId, CompletableFuture<Slab>> slabs = new ConcurrentHashMap<>();
  private final Map<Integer, Slab> slabsById = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor deadlines = newDeadlineTimer();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<Integer> restoredFds = ConcurrentHashMap.newKeySet();
  private final RecentFailures recentFailures = new RecentFailures(FAILURE_MEMORY_NANOS);
  private final LongAdder events = new LongAdder();
  private final LongAdder allowed = new LongAdder();
  private final LongAdder denied = new LongAdder();
  private final LongAdder timedOut = new LongAdder();
  private final LongAdder replayed = new LongAdder();
  private final LongAdder serveNanos = new LongAdder();
  private final LongAdder filled = new LongAdder();
  private final LongAdder fillNanos = new LongAdder();
  private volatile boolean denyErrnoSupported = true;
  private volatile boolean running;
  private volatile boolean groupRestored;
  private volatile boolean closed;
  private final ReentrantReadWriteLock groupLock = new ReentrantReadWriteLock();
  private SlabFiller filler;
  private int groupFd = -1;
  private InFlightJournal journal;
  private Thread reader;

  /**
   * Counters since start: events read, answers given, deadline misses, journaled replays, time from
   * reading an event to answering it (all events), and the events that waited for a fill (data not
   * present) with their share of that time.
   */
  public record Stats(
      long events,
      long allowed,
      long denied,
      long timedOut,
      long replayed,
      long serveNanos,
      long filled,
      long fillNanos) {}

  /**
   * A backend keeping its group (and slab write fds) in {@code fdStore}; null only with {@link
   * FanotifyOptions#allowNoFdStore()}.
   */
  public FanotifyBackend(FanotifyOptions options, FdStore fdStore) {
    this.options = options;
    this.fdStore = fdStore;
  }

  private static ScheduledThreadPoolExecutor newDeadlineTimer() {
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1, r -> Thread.ofPlatform().daemon().name("fanotify-deadlines").unstarted(r));
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  /**
   * The backend as the daemon runs it, keeping its fds in {@code store} (the caller picks it: an fd
   * holder or systemd); with a null store, start() refuses unless {@code allowNoFdStore}. The
   * in-flight journal lives at {@code stateDir/fanotify-inflight}.
   */
  public static FanotifyBackend create(
      Path stateDir, FdStore store, boolean allowNoFdStore, java.time.Duration deadline) {
    return new FanotifyBackend(
        new FanotifyOptions(
            deadline,
            stateDir.resolve("fanotify-inflight"),
            allowNoFdStore,
            FanotifyOptions.DEFAULT_READ_AHEAD_KB),
        store);
  }

  /** The fd store in use, if any (for logs and status). */
  public Optional<String> fdStoreDescription() {
    return fdStore == null ? Optional.empty() : Optional.of(fdStore.describe());
  }

  /** The fd store name of slab {@code slabId}'s pre-mark write fd. */
  public static String slabFdName(int slabId) {
    return "slab-" + slabId;
  }

  /**
   * Checks that this kernel supports pre-content events, with a real group and a real {@code
   * FAN_PRE_ACCESS} mark on a temporary file in {@code dir} (pre-content marks also depend on the
   * filesystem, so pass the slab directory). Empty when supported, else why not.
   */
  public static Optional<String> probe(Path dir) {
    int fd;
    try {
      fd =
          Syscalls.fanotifyInit(
              FanotifyApi.FAN_CLASS_PRE_CONTENT
                  | FanotifyApi.FAN_CLOEXEC
                  | FanotifyApi.FAN_NONBLOCK,
              Syscalls.O_RDONLY | Syscalls.O_LARGEFILE);
    } catch (SyscallException e) {
      return Optional.of(
          switch (e.errno()) {
            case 1 -> "fanotify_init(FAN_CLASS_PRE_CONTENT) needs CAP_SYS_ADMIN (run as root)";
            case 22 ->
                "kernel refuses FAN_CLASS_PRE_CONTENT groups (needs"
                    + " CONFIG_FANOTIFY_ACCESS_PERMISSIONS)";
            case 38 -> "kernel built without fanotify (CONFIG_FANOTIFY)";
            default -> "fanotify_init failed: " + e.getMessage();
          });
    }
    Path probeFile = null;
    try {
      probeFile = Files.createTempFile(dir, ".styx-fanotify-probe", "");
      Syscalls.fanotifyMark(fd, FanotifyApi.FAN_MARK_ADD, FanotifyApi.FAN_PRE_ACCESS, probeFile);
      return Optional.empty();
    } catch (SyscallException e) {
      return Optional.of(
          switch (e.errno()) {
            case 22 -> "kernel does not know FAN_PRE_ACCESS (pre-content events need Linux 6.14+)";
            case 95 -> "the filesystem of " + dir + " does not support pre-content events";
            default -> "fanotify_mark(FAN_PRE_ACCESS) failed: " + e.getMessage();
          });
    } catch (IOException e) {
      return Optional.of("cannot create a probe file in " + dir + ": " + e.getMessage());
    } finally {
      closeQuietly(fd);
      if (probeFile != null) {
        try {
          Files.deleteIfExists(probeFile);
        } catch (IOException e) {
          LOG.debug("probe file {} left behind: {}", probeFile, e.getMessage());
        }
      }
    }
  }

  /** {@link #probe(Path)} in the temporary directory. */
  public static Optional<String> probe() {
    return probe(Path.of(System.getProperty("java.io.tmpdir")));
  }

  @Override
  public String name() {
    return "fanotify";
  }

  @Override
  public boolean lazy() {
    return true;
  }

  @Override
  public boolean mountsSlabFiles() {
    return true;
  }

  /**
   * The pre-mark write fd of slab {@code slabId} that a previous process left in the fd store, if
   * any; the caller owns it and must use it as {@link Slab#writeFd} (a fresh open of a marked slab
   * would deadlock on its own events).
   */
  public OptionalInt restoredWriteFd(int slabId) {
    OptionalInt fd = fdStore == null ? OptionalInt.empty() : fdStore.take(slabFdName(slabId));
    fd.ifPresent(restoredFds::add);
    return fd;
  }

  /** Whether {@link #start} took an existing group back from the fd store. */
  public boolean groupRestored() {
    return groupRestored;
  }

  @Override
  public synchronized void start(SlabFiller filler) throws IOException {
    if (running) {
      throw new IllegalStateException("fanotify backend already started");
    }
    if (fdStore == null && !options.allowNoFdStore()) {
      throw new IOException(
          "the fanotify backend needs an fd store (systemd FDSTORE or `styx fd-holder`) so that"
              + " readers never get zeros if the daemon dies; pass --fanotify-allow-no-fdstore to"
              + " accept that risk");
    }
    this.filler = filler;
    OptionalInt kept = fdStore == null ? OptionalInt.empty() : fdStore.take(GROUP_FD_NAME);
    groupRestored = kept.isPresent();
    if (kept.isPresent()) {
      groupFd = kept.getAsInt();
      LOG.info("fanotify: took group fd {} back from the {}", groupFd, fdStore.describe());
    } else {
      groupFd =
          Syscalls.fanotifyInit(
              FanotifyApi.FAN_CLASS_PRE_CONTENT
                  | FanotifyApi.FAN_CLOEXEC
                  | FanotifyApi.FAN_NONBLOCK
                  | FanotifyApi.FAN_UNLIMITED_QUEUE,
              Syscalls.O_RDWR | Syscalls.O_LARGEFILE);
      if (fdStore != null) {
        fdStore.store(GROUP_FD_NAME, groupFd);
        LOG.info("fanotify: new group fd {} kept in the {}", groupFd, fdStore.describe());
      } else {
        LOG.warn(
            "fanotify: running without an fd store: if this process dies, pending readers get"
                + " zeros");
      }
    }
    journal = InFlightJournal.open(options.journal());
    running = true;
    List<InFlightJournal.Entry> left = journal.recovered();
    if (!left.isEmpty()) {
      if (groupRestored) {
        LOG.info("fanotify: answering {} journaled in-flight events", left.size());
        replay(left);
      } else {
        // Their group died with the previous process; the kernel already answered them.
        LOG.warn(
            "fanotify: dropping {} journaled events of a group that no longer exists", left.size());
        for (InFlightJournal.Entry e : left) {
          journal.remove(e.fd());
        }
      }
    }
    // Reading sits in poll(2)/read(2): a platform thread, never a virtual one.
    reader = Thread.ofPlatform().daemon().name("fanotify-events").start(this::readLoop);
  }

  @Override
  public void attachSlab(Slab slab) throws IOException {
    if (!running) {
      throw new IllegalStateException("fanotify backend not started");
    }
    if (slab.writeFd() < 0) {
      throw new IllegalArgumentException("slab " + slab.id() + " has no pre-mark write fd");
    }
    FileId id = Syscalls.fileId(slab.writeFd());
    int pathFd = Syscalls.open(slab.file(), O_PATH | Syscalls.O_CLOEXEC, 0);
    try {
      if (!Syscalls.fileId(pathFd).equals(id)) {
        throw new IOException(
            "slab " + slab.id() + ": write fd " + slab.writeFd() + " is not " + slab.file());
      }
    } finally {
      Syscalls.close(pathFd);
    }
    if (groupRestored
        && !restoredFds.contains(slab.writeFd())
        && GroupMarks.of(groupFd).contains(id)) {
      // Hazard C: this fd was opened after the kept group marked the slab, so writes through it
      // would raise events that wait on the very fill doing the write.
      throw new IOException(
          "slab "
              + slab.id()
              + " is already marked by the fanotify group taken back from the "
              + fdStore.describe()
              + "; its write fd must be the one from restoredWriteFd("
              + slab.id()
              + "), not one opened now");
    }
    Syscalls.fanotifyMark(
        groupFd, FanotifyApi.FAN_MARK_ADD, FanotifyApi.FAN_PRE_ACCESS, slab.file());
    Slab before = slabsById.put(slab.id(), slab);
    // A fd handed back by the store is already there (systemd would keep a second copy).
    if (fdStore != null
        && !restoredFds.contains(slab.writeFd())
        && (before == null || before.writeFd() != slab.writeFd())) {
      fdStore.store(slabFdName(slab.id()), slab.writeFd());
    }
    slabs.computeIfAbsent(id, k -> new CompletableFuture<>()).complete(slab);
  }

  @Override
  public synchronized void mount(Path image, List<Slab> slabList, Path target) throws IOException {
    for (Slab s : slabList) {
      if (!slabsById.containsKey(s.id())) {
        throw new IllegalStateException(
            "slab " + s.id() + " must be attached (marked) before a mount uses it");
      }
    }
    MountReadAhead.mount(image, slabList, target, options.readAheadKb());
  }

  @Override
  public void unmount(Path target) throws IOException {
    FileBackedMount.unmount(target);
  }

  /** Counters since start. */
  public Stats stats() {
    return new Stats(
        events.sum(),
        allowed.sum(),
        denied.sum(),
        timedOut.sum(),
        replayed.sum(),
        serveNanos.sum(),
        filled.sum(),
        fillNanos.sum());
  }

  /** Events read and not yet answered. */
  public int inFlight() {
    return inFlight.get();
  }

  /**
   * Stops reading events, gives in-flight fills a grace period and closes this process's copy of
   * the group fd. With an fd store the group lives on there: unanswered events stay journaled and
   * reads of missing data wait for the next daemon instead of seeing zeros. Without one every
   * in-flight event is answered first (by its deadline at worst), and reads of missing data on
   * mounts left behind see holes: unmount lazy mounts before closing in that mode.
   */
  @Override
  public void close() throws IOException {
    Thread r;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      r = reader;
    }
    // Without a store, closing the group would answer leftovers ALLOW (zeros): wait them all out
    // (each ends by its deadline). With one, leftovers stay pending in the kept group and
    // journaled, for the next daemon to answer.
    long graceNanos =
        fdStore == null
            ? options.eventDeadline().toNanos() + 1_000_000_000L
            : Math.min(options.eventDeadline().toNanos(), CLOSE_GRACE_NANOS);
    try {
      r.join();
      long until = System.nanoTime() + graceNanos;
      while (inFlight.get() > 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    groupLock.writeLock().lock();
    try {
      // From here on nothing answers and nothing leaves the journal: a late answer could land on
      // a reused fd number.
      closed = true;
      if (inFlight.get() > 0) {
        LOG.info("fanotify: leaving {} in-flight events to the next daemon", inFlight.get());
      }
      deadlines.shutdownNow();
      journal.close();
      closeQuietly(groupFd);
      groupFd = -1;
    } finally {
      groupLock.writeLock().unlock();
    }
  }

  private void readLoop() {
    ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
    while (running) {
      try {
        if ((Syscalls.poll(groupFd, Syscalls.POLLIN, 100) & Syscalls.POLLIN) == 0) {
          continue;
        }
        buf.clear();
        try {
          Syscalls.read(groupFd, buf);
        } catch (SyscallException e) {
          if (e.errno() == EAGAIN) {
            continue;
          }
          throw e;
        }
        buf.flip();
        for (FanotifyEvent ev : FanotifyEvents.parse(buf)) {
          accept(ev);
        }
      } catch (IOException | RuntimeException e) {
        LOG.error("fanotify: event loop error", e);
      }
    }
  }

  private void accept(FanotifyEvent ev) throws IOException {
    if (ev.fd() == FanotifyApi.FAN_NOFD) {
      LOG.error("fanotify: queue overflow (mask 0x{})", Long.toHexString(ev.mask()));
      return;
    }
    events.increment();
    if (!ev.isPreAccess()) {
      // Only FAN_PRE_ACCESS is marked; anything else needs no answer.
      closeQuietly(ev.fd());
      return;
    }
    long t0 = System.nanoTime();
    FileId file;
    long offset = ev.offset();
    long count = ev.count();
    try {
      file = Syscalls.fileId(ev.fd());
      if (!ev.hasRange()) {
        offset = 0;
        count = Syscalls.fileSize(ev.fd());
      }
    } catch (SyscallException e) {
      LOG.error("fanotify: cannot identify event fd {}: {}", ev.fd(), e.getMessage());
      answer(ev.fd(), false);
      closeQuietly(ev.fd());
      return;
    }
    InFlightJournal.Entry entry = new InFlightJournal.Entry(ev.fd(), file, offset, count);
    // Warm path: present data is answered right here, no hand-off. Not journaled: the event is
    // answered within microseconds on this thread.
    CompletableFuture<Slab> known = slabs.get(file);
    Slab slab = known == null ? null : known.getNow(null);
    // Zero-length ranges (a truncate of a marked slab raises one) need no data.
    if (count == 0 || (slab != null && filler.isPresent(slab.id(), offset, count))) {
      answer(ev.fd(), true);
      closeQuietly(ev.fd());
      serveNanos.add(System.nanoTime() - t0);
      return;
    }
    if (recentFailures.overlaps(file, offset, count, t0)) {
      // A retry of a range that just timed out: fail it now rather than after another deadline.
      answer(ev.fd(), false);
      closeQuietly(ev.fd());
      return;
    }
    try {
      journal.add(entry);
    } catch (IOException e) {
      LOG.error("fanotify: journal write failed (event still served): {}", e.getMessage());
    }
    dispatch(entry, true, t0);
  }

  /** Serves journaled events of the previous process: fill, then answer by fd number. */
  private void replay(List<InFlightJournal.Entry> left) throws IOException {
    int devNull = Syscalls.open(Path.of("/dev/null"), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    try {
      for (InFlightJournal.Entry e : left) {
        // Hold the fd number so no new event of this process gets it before the old one is
        // answered: the kernel matches a response to the first pending event with that number.
        boolean placeholder = !Syscalls.isOpen(e.fd());
        if (placeholder) {
          Syscalls.dup3(devNull, e.fd(), Syscalls.O_CLOEXEC);
        }
        replayed.increment();
        dispatch(e, placeholder, System.nanoTime());
      }
    } finally {
      Syscalls.close(devNull);
    }
  }

  /** One event being served; whoever finishes it first (fill or deadline) answers it. */
  private final class Pending {
    final InFlightJournal.Entry entry;
    final boolean closeFd;
    final long t0;
    final AtomicBoolean done = new AtomicBoolean();
    volatile Thread worker;
    volatile ScheduledFuture<?> timer;

    Pending(InFlightJournal.Entry entry, boolean closeFd, long t0) {
      this.entry = entry;
      this.closeFd = closeFd;
      this.t0 = t0;
    }

    void finish(boolean ok) {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      ScheduledFuture<?> t = timer;
      if (t != null) {
        t.cancel(false);
      }
      groupLock.readLock().lock();
      try {
        if (closed) {
          return; // left pending and journaled for the next daemon
        }
        respond(entry.fd(), ok);
        try {
          journal.remove(entry.fd());
        } catch (IOException x) {
          LOG.error("fanotify: journal write failed: {}", x.getMessage());
        }
        if (closeFd) {
          closeQuietly(entry.fd());
        }
      } finally {
        groupLock.readLock().unlock();
      }
      long took = System.nanoTime() - t0;
      serveNanos.add(took);
      fillNanos.add(took);
      filled.increment();
      inFlight.decrementAndGet();
    }
  }

  private void dispatch(InFlightJournal.Entry e, boolean closeFd, long t0) {
    inFlight.incrementAndGet();
    Pending p = new Pending(e, closeFd, t0);
    long delay = t0 + options.eventDeadline().toNanos() - System.nanoTime();
    p.timer = deadlines.schedule(() -> expire(p), Math.max(0, delay), TimeUnit.NANOSECONDS);
    // The fill may do HTTP: a virtual thread per event.
    Thread.ofVirtual().start(() -> serve(p));
  }

  private void expire(Pending p) {
    if (p.done.get()) {
      return;
    }
    timedOut.increment();
    LOG.warn(
        "fanotify: fill of {}+{} missed its {} deadline: denying",
        p.entry.offset(),
        p.entry.count(),
        options.eventDeadline());
    // Only timeouts are remembered: a fast failure is retried fast, and succeeds once the
    // source is back.
    recentFailures.record(p.entry.file(), p.entry.offset(), p.entry.count(), System.nanoTime());
    p.finish(false);
    Thread w = p.worker;
    if (w != null) {
      w.interrupt(); // abandon the fetch
    }
  }

  private void serve(Pending p) {
    p.worker = Thread.currentThread();
    InFlightJournal.Entry e = p.entry;
    boolean ok = false;
    try {
      Slab slab = slabs.computeIfAbsent(e.file(), k -> new CompletableFuture<>()).get();
      if (!p.done.get()) {
        filler.fill(slab.id(), e.offset(), e.count());
        ok = true;
      }
    } catch (IOException x) {
      if (!p.done.get()) {
        LOG.warn(
            "fanotify: fill of {}+{} failed: denying: {}", e.offset(), e.count(), x.toString());
      }
    } catch (InterruptedException x) {
      // the deadline passed (already answered) or shutdown
    } catch (ExecutionException | RuntimeException x) {
      LOG.error("fanotify: serving event failed: denying", x);
    } finally {
      p.worker = null;
      p.finish(ok);
    }
  }

  /** Writes the response; answers exactly once per event (the caller's finally). */
  private void answer(int fd, boolean allow) {
    groupLock.readLock().lock();
    try {
      if (!closed) {
        respond(fd, allow);
      }
    } finally {
      groupLock.readLock().unlock();
    }
  }

  private void respond(int fd, boolean allow) {
    (allow ? allowed : denied).increment();
    int response = FanotifyApi.FAN_ALLOW;
    if (!allow) {
      response =
          denyErrnoSupported ? FanotifyApi.denyWithErrno(FanotifyApi.EIO) : FanotifyApi.FAN_DENY;
    }
    try {
      Syscalls.writeIntPair(groupFd, fd, response);
    } catch (SyscallException e) {
      if (e.errno() == EINVAL && !allow && denyErrnoSupported) {
        // Kernels before 6.14 refuse FAN_DENY_ERRNO: plain FAN_DENY, the reader sees EPERM.
        denyErrnoSupported = false;
        LOG.warn("fanotify: FAN_DENY_ERRNO refused; readers will see EPERM instead of EIO");
        try {
          Syscalls.writeIntPair(groupFd, fd, FanotifyApi.FAN_DENY);
        } catch (SyscallException e2) {
          LOG.error("fanotify: deny of fd {} failed: {}", fd, e2.getMessage());
        }
      } else if (e.errno() == ENOENT) {
        // Already answered (a journaled event whose answer the old process wrote before dying).
        LOG.debug("fanotify: no pending event for fd {}", fd);
      } else {
        LOG.error("fanotify: response for fd {} failed: {}", fd, e.getMessage());
      }
    }
  }

  private static void closeQuietly(int fd) {
    if (fd < 0) {
      return;
    }
    try {
      Syscalls.close(fd);
    } catch (SyscallException e) {
      LOG.debug("close({}) failed: {}", fd, e.getMessage());
    }
  }
}
