package dev.styx.kernel.cachefiles;

import dev.styx.kernel.Backend;
import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.fdstore.FdStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazy loading through EROFS over fscache with cachefiles in on-demand mode (Linux 6.8+ with {@code
 * CONFIG_EROFS_FS_ONDEMAND}). Each image is mounted {@code fsid=<image cookie>,domain_id=<domain>};
 * its device table names slabs by tag {@link #slabTag}, which become cookies shared by every image
 * of the domain. The kernel asks for missing data through {@code /dev/cachefiles}:
 *
 * <ul>
 *   <li>OPEN of an image cookie is answered with the image's size, of a slab cookie with 1 TiB;
 *       anything else fails with ENOENT (the mount then fails, nothing is served).
 *   <li>READ of an image copies the stored image bytes into the object's anon fd. READ of a slab
 *       calls {@link SlabFiller#fill} for the range (which writes the slab store's own file), then
 *       copies the range from that file into the anon fd (fill-then-copy: the seam stays one {@code
 *       fill} for every backend; the price is that present data sits twice on disk, once in the
 *       slab file and once in the cachefiles cache file). Every READ is answered with {@code
 *       CACHEFILES_IOC_READ_COMPLETE}; if anything failed the range stays a hole and the reader
 *       gets EIO, never wrong data.
 *   <li>CLOSE closes the object's anon fd (after any write in progress on it).
 * </ul>
 *
 * <p>Anon-fd writes are direct I/O: offset, length and memory are page-aligned, the tail of the
 * last page zero-padded. Requests are read on one platform thread and handled on a pool of platform
 * workers (they sit in native calls). The devnode fd is kept in an {@link FdStore} (name {@link
 * #DEVNODE_FD_NAME}); a restarted backend takes it back and writes {@code restore}, so requests the
 * dead process had read are delivered again. Without a store a crash fails pending reads with EIO.
 */
public final class CachefilesBackend implements Backend {
  /** The fd store name of the {@code /dev/cachefiles} fd. */
  public static final String DEVNODE_FD_NAME = "cachefiles";

  /** Prefix of slab device tags (and slab cookie keys): {@code styx-slab-<id>}. */
  public static final String SLAB_TAG_PREFIX = "styx-slab-";

  /** Size of a slab object: a sparse 1 TiB device (2^28 blocks). */
  public static final long SLAB_SIZE = 1L << 40;

  private static final Logger LOG = LoggerFactory.getLogger(CachefilesBackend.class);
  private static final int PAGE = 4096;
  private static final Path BDI_DIR = Path.of("/sys/class/bdi");
  private static final int COPY_CHUNK = 1 << 20;
  private static final long MOUNT_FLAGS =
      Syscalls.MS_RDONLY | Syscalls.MS_NODEV | Syscalls.MS_NOSUID;

  private final CachefilesOptions options;
  private final FdStore fdStore;
  private final ImageStore images;
  private final Map<Integer, CacheObject> objects = new ConcurrentHashMap<>();
  private final Map<Integer, CompletableFuture<SlabSource>> slabs = new ConcurrentHashMap<>();
  private final Map<Path, String> mounts = new ConcurrentHashMap<>();
  private final LongAdder opens = new LongAdder();
  private final LongAdder reads = new LongAdder();
  private final LongAdder readFailures = new LongAdder();
  private final LongAdder closes = new LongAdder();
  private final LongAdder bytesWritten = new LongAdder();
  private final ThreadLocal<ByteBuffer> copyBuffers =
      ThreadLocal.withInitial(() -> Syscalls.alignedBuffer(COPY_CHUNK));
  private volatile boolean running;
  private volatile boolean restored;
  private SlabFiller filler;
  private CachefilesDevice device;
  private ExecutorService workers;
  private Thread loop;

  /** Counters since start. */
  public record Stats(long opens, long reads, long readFailures, long closes, long bytesWritten) {}

  /** What a slab READ copies from: the slab store's file, opened read-only. */
  private record SlabSource(Slab slab, int readFd) {}

  /** An open cache object: its anon fd and what it holds (an image or a slab). */
  private static final class CacheObject {
    final int objectId;
    final int fd;
    final ImageStore.Image image; // null for a slab
    final int slabId;
    final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    boolean closed;

    CacheObject(int objectId, int fd, ImageStore.Image image, int slabId) {
      this.objectId = objectId;
      this.fd = fd;
      this.image = image;
      this.slabId = slabId;
    }

    @Override
    public String toString() {
      return image != null ? "image " + image.fsid() : "slab " + slabId;
    }
  }

  /**
   * A backend keeping its devnode fd in {@code fdStore}; with null, a daemon crash fails pending
   * reads with EIO.
   */
  public CachefilesBackend(CachefilesOptions options, FdStore fdStore) {
    this.options = options;
    this.fdStore = fdStore;
    this.images = new ImageStore(options.cacheDir());
  }

  /**
   * The backend as {@code styx daemon --backend cachefiles} creates it: settings from {@link
   * CachefilesOptions#fromEnvironment()}, the fd holder at {@code $STYX_FD_HOLDER} if set, else
   * systemd's fd store if {@code $NOTIFY_SOCKET} is set, else none.
   */
  public CachefilesBackend() throws IOException {
    this(CachefilesOptions.fromEnvironment(), defaultFdStore());
  }

  /**
   * The fd store {@link #CachefilesBackend()} uses: the fd holder at {@code $STYX_FD_HOLDER} if
   * set, else systemd's if {@code $NOTIFY_SOCKET} is set, else null.
   */
  public static FdStore defaultFdStore() throws IOException {
    String holder = System.getenv("STYX_FD_HOLDER");
    return FdStore.detect(holder == null || holder.isEmpty() ? null : Path.of(holder)).orElse(null);
  }

  /** The device tag (and cookie key) of slab {@code slabId} in every image's device table. */
  public static String slabTag(int slabId) {
    return SLAB_TAG_PREFIX + slabId;
  }

  /** The slab id a cookie key names, if it is a slab tag. */
  static OptionalInt slabIdOf(String cookie) {
    if (!cookie.startsWith(SLAB_TAG_PREFIX)) {
      return OptionalInt.empty();
    }
    String n = cookie.substring(SLAB_TAG_PREFIX.length());
    if (!n.matches("0|[1-9][0-9]{0,8}")) {
      return OptionalInt.empty();
    }
    return OptionalInt.of(Integer.parseInt(n));
  }

  @Override
  public String name() {
    return "cachefiles";
  }

  @Override
  public boolean lazy() {
    return true;
  }

  @Override
  public boolean mountsSlabFiles() {
    return false;
  }

  /** The settings this backend runs with. */
  public CachefilesOptions options() {
    return options;
  }

  /** Whether {@link #start} took the devnode back from the fd store and restored its requests. */
  public boolean restored() {
    return restored;
  }

  /** Counters since start. */
  public Stats stats() {
    return new Stats(
        opens.sum(), reads.sum(), readFailures.sum(), closes.sum(), bytesWritten.sum());
  }

  /** Where cachefiles keeps slab {@code slabId}'s data (exists once the slab was opened). */
  public Path slabCacheFile(int slabId) {
    return CachefilesPaths.backingFile(options.cacheDir(), options.domain(), slabTag(slabId));
  }

  @Override
  public synchronized void start(SlabFiller filler) throws IOException {
    if (running) {
      throw new IllegalStateException("cachefiles backend already started");
    }
    this.filler = filler;
    Files.createDirectories(options.cacheDir());
    OptionalInt kept = fdStore == null ? OptionalInt.empty() : fdStore.take(DEVNODE_FD_NAME);
    if (kept.isPresent()) {
      CachefilesDevice d = CachefilesDevice.ofFd(kept.getAsInt());
      try {
        d.restore();
        device = d;
        restored = true;
        LOG.info(
            "cachefiles: took /dev/cachefiles back from the {} and restored its requests",
            fdStore.describe());
      } catch (SyscallException e) {
        // A devnode that cannot restore is of no use: drop it so a fresh one can be bound.
        LOG.warn(
            "cachefiles: restore on the kept devnode failed ({}); binding anew", e.getMessage());
        fdStore.remove(DEVNODE_FD_NAME);
        d.closeQuietly();
      }
    }
    if (device == null) {
      device = openWithRetry();
      if (fdStore != null) {
        fdStore.store(DEVNODE_FD_NAME, device.fd());
        LOG.info(
            "cachefiles: devnode bound in {}, kept in the {}",
            options.cacheDir(),
            fdStore.describe());
      } else {
        LOG.warn(
            "cachefiles: no fd store: if this process dies, pending reads fail with EIO and the"
                + " mounts stay broken until remounted");
      }
    }
    workers =
        Executors.newFixedThreadPool(
            options.workers(),
            Thread.ofPlatform().daemon().name("cachefiles-worker-", 0).factory());
    running = true;
    // The loop sits in poll(2)/read(2): a platform thread.
    loop = Thread.ofPlatform().daemon().name("cachefiles-requests").start(this::requestLoop);
  }

  // After a dropped store fd the old file may take a moment to be released by the holder.
  private CachefilesDevice openWithRetry() throws IOException {
    for (int attempt = 0; ; attempt++) {
      try {
        return CachefilesDevice.openAndBind(options.cacheDir(), options.tag());
      } catch (IOException e) {
        if (attempt >= 20
            || !(e.getCause() instanceof SyscallException s
                && s.errno() == CachefilesDevice.EBUSY)) {
          throw e;
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

  @Override
  public void attachSlab(Slab slab) throws IOException {
    if (!running) {
      throw new IllegalStateException("cachefiles backend not started");
    }
    CompletableFuture<SlabSource> f =
        slabs.computeIfAbsent(slab.id(), k -> new CompletableFuture<>());
    if (f.isDone()) {
      SlabSource have = f.join();
      if (!have.slab().file().equals(slab.file())) {
        throw new IllegalStateException(
            "slab " + slab.id() + " already attached as " + have.slab().file());
      }
      return;
    }
    int fd = Syscalls.open(slab.file(), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    if (!f.complete(new SlabSource(slab, fd))) {
      Syscalls.close(fd);
    }
  }

  @Override
  public void mount(Path image, List<Slab> slabList, Path target) throws IOException {
    if (!running) {
      throw new IllegalStateException("cachefiles backend not started");
    }
    List<String> tags = ImageDevices.tags(image);
    if (tags.size() != slabList.size()) {
      throw new IOException(
          image
              + " lists "
              + tags.size()
              + " devices but "
              + slabList.size()
              + " slabs were given");
    }
    for (int i = 0; i < tags.size(); i++) {
      Slab s = slabList.get(i);
      if (!tags.get(i).equals(slabTag(s.id()))) {
        throw new IOException(
            image
                + ": device "
                + (i + 1)
                + " is tagged '"
                + tags.get(i)
                + "', expected '"
                + slabTag(s.id())
                + "' (cachefiles finds slabs by tag)");
      }
      CompletableFuture<SlabSource> f = slabs.get(s.id());
      if (f == null || !f.isDone()) {
        throw new IllegalStateException(
            "slab " + s.id() + " must be attached before a mount uses it");
      }
    }
    ImageStore.Image img = images.register(image);
    Optional<Path> same =
        mounts.entrySet().stream()
            .filter(e -> e.getValue().equals(img.fsid()))
            .map(Map.Entry::getKey)
            .findFirst();
    if (same.isPresent()) {
      // An fsid is unique within its domain: a second mount of one image is a bind mount.
      // The superblock is read-only, so the bind is too.
      Syscalls.mount(same.get().toString(), target, null, Syscalls.MS_BIND, null);
    } else {
      synchronized (CachefilesBackend.class) {
        // Mounts are serialized so the bdi that appears with this one is known to be its own.
        Set<String> before = erofsBdis();
        // Blocks until this backend has answered the image's OPEN and READs (on other threads).
        Syscalls.mount(
            "none",
            target,
            "erofs",
            MOUNT_FLAGS,
            "fsid=" + img.fsid() + ",domain_id=" + options.domain());
        if (options.readAheadKb() > 0) {
          Set<String> fresh = erofsBdis();
          fresh.removeAll(before);
          setReadAhead(fresh, options.readAheadKb());
        }
      }
    }
    mounts.put(target.toAbsolutePath(), img.fsid());
  }

  private static Set<String> erofsBdis() {
    Set<String> out = new HashSet<>();
    try (var s = Files.list(BDI_DIR)) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("erofs-")).forEach(out::add);
    } catch (IOException e) {
      LOG.debug("cannot list {}: {}", BDI_DIR, e.getMessage());
    }
    return out;
  }

  // A nodev superblock gets its own bdi (super_setup_bdi: "erofs-<n>") with 128 KiB read-ahead.
  private static void setReadAhead(Set<String> bdis, int kb) {
    if (bdis.size() != 1) {
      LOG.debug("cannot tell which bdi is the new mount's ({}); read-ahead left alone", bdis);
      return;
    }
    Path knob = BDI_DIR.resolve(bdis.iterator().next()).resolve("read_ahead_kb");
    try {
      Files.writeString(knob, Integer.toString(kb));
    } catch (IOException e) {
      LOG.warn("cannot set {}: {}", knob, e.getMessage());
    }
  }

  @Override
  public void unmount(Path target) throws IOException {
    try {
      Syscalls.umount(target, 0);
    } catch (SyscallException e) {
      if (e.errno() != CachefilesDevice.EBUSY) {
        throw e;
      }
      Syscalls.umount(target, Syscalls.MNT_DETACH);
    }
    mounts.remove(target.toAbsolutePath());
  }

  /**
   * Stops reading requests, lets those in hand finish and closes this process's fds. With an fd
   * store the devnode lives on there, so reads of missing data wait for the next daemon; without
   * one, closing the devnode fails them (and all later ones on these mounts) with EIO.
   */
  @Override
  public void close() throws IOException {
    Thread l;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      l = loop;
    }
    try {
      l.join();
      workers.shutdown();
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        LOG.warn("cachefiles: requests still in hand after 30 s; closing anyway");
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (CacheObject o : List.copyOf(objects.values())) {
      objects.remove(o.objectId);
      closeObject(o);
    }
    for (CompletableFuture<SlabSource> f : slabs.values()) {
      if (f.isDone() && !f.isCompletedExceptionally()) {
        closeQuietly(f.join().readFd());
      } else {
        f.completeExceptionally(new IOException("cachefiles backend closed"));
      }
    }
    device.closeQuietly();
  }

  private void requestLoop() {
    ByteBuffer buf = ByteBuffer.allocateDirect(CachefilesMessage.MAX_SIZE);
    int errors = 0;
    while (running) {
      try {
        Optional<CachefilesMessage> m = device.next(buf, 200);
        while (m.isPresent()) {
          dispatch(m.get());
          m = device.readOne(buf);
        }
        errors = 0;
      } catch (IOException | RuntimeException e) {
        // A failed read(2) fails that request in the kernel; keep serving the others.
        LOG.error("cachefiles: reading requests failed: {}", e.toString());
        if (++errors > 10) {
          sleep(Math.min(errors, 1000));
        }
      }
    }
  }

  private void dispatch(CachefilesMessage m) {
    switch (m) {
      case CachefilesMessage.Open o -> workers.execute(() -> handleOpen(o));
      case CachefilesMessage.Read r -> workers.execute(() -> handleRead(r));
      case CachefilesMessage.Close c -> workers.execute(() -> handleClose(c));
    }
  }

  private void handleOpen(CachefilesMessage.Open o) {
    opens.increment();
    long size = -CachefilesDevice.ENOENT;
    CacheObject obj = null;
    try {
      String expected = "erofs," + options.domain();
      String cookie = o.cookie();
      OptionalInt slab = slabIdOf(cookie);
      if (!o.volumeKey().equals(expected)) {
        LOG.warn(
            "cachefiles: OPEN for volume '{}' (not ours, {}): refused", o.volumeKey(), expected);
      } else if (slab.isPresent()) {
        obj = new CacheObject(o.objectId(), o.fd(), null, slab.getAsInt());
        size = SLAB_SIZE;
      } else {
        Optional<ImageStore.Image> img = images.lookup(cookie);
        if (img.isPresent()) {
          obj = new CacheObject(o.objectId(), o.fd(), img.get(), -1);
          size = img.get().size();
        } else {
          LOG.warn("cachefiles: OPEN for unknown cookie '{}': refused", cookie);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("cachefiles: OPEN {} failed: {}", o, e.toString());
      obj = null;
      size = -CachefilesDevice.ENOENT;
    }
    // Registered before copen: the object's READs may be read (and handled) right after it.
    if (obj != null) {
      objects.put(o.objectId(), obj);
    }
    try {
      device.copen(o.msgId(), size);
      LOG.debug("cachefiles: {} -> copen {}", o, size);
    } catch (SyscallException e) {
      LOG.error("cachefiles: copen {} for {} failed: {}", size, o, e.getMessage());
      if (obj != null) {
        objects.remove(o.objectId(), obj);
        closeObject(obj);
        obj = null;
      }
    }
    if (obj == null) {
      closeQuietly(o.fd());
    }
  }

  private void handleRead(CachefilesMessage.Read r) {
    reads.increment();
    CacheObject obj = objects.get(r.objectId());
    if (obj == null) {
      // No fd to answer with; the kernel failed the request when the object's fd closed.
      LOG.error("cachefiles: READ {} for unknown object {}", r, r.objectId());
      readFailures.increment();
      return;
    }
    long start = r.offset() & ~(long) (PAGE - 1);
    long end = (r.offset() + r.length() + PAGE - 1) & ~(long) (PAGE - 1);
    boolean ok = false;
    try {
      if (obj.image != null) {
        ok =
            copy(
                obj,
                images
                    .lookup(obj.image.fsid())
                    .orElseThrow(
                        () ->
                            new IOException(
                                "image " + obj.image.fsid() + " vanished from the store"))
                    .file(),
                start,
                Math.min(end, obj.image.size()));
      } else {
        SlabSource src = awaitSlab(obj.slabId);
        filler.fill(obj.slabId, start, end - start);
        ok = copyFd(obj, src.readFd(), start, end);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn(
          "cachefiles: READ {}+{} of {} failed (reader gets EIO): {}",
          r.offset(),
          r.length(),
          obj,
          e.toString());
    } finally {
      if (!ok) {
        readFailures.increment();
      }
      complete(obj, r.msgId());
    }
  }

  private SlabSource awaitSlab(int slabId) throws IOException {
    CompletableFuture<SlabSource> f = slabs.computeIfAbsent(slabId, k -> new CompletableFuture<>());
    try {
      return f.get(options.slabWait().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IOException("slab " + slabId + " was not attached within " + options.slabWait());
    } catch (ExecutionException e) {
      throw new IOException("slab " + slabId + ": " + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for slab " + slabId);
    }
  }

  private boolean copy(CacheObject obj, Path file, long start, long end) throws IOException {
    int fd = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    try {
      return copyFd(obj, fd, start, end);
    } finally {
      closeQuietly(fd);
    }
  }

  /**
   * Copies {@code [start, end)} (page-aligned) of {@code srcFd} into the object's anon fd, through
   * a page-aligned buffer; bytes past the source's end are zeros (block padding). False if the
   * object was closed meanwhile.
   */
  private boolean copyFd(CacheObject obj, int srcFd, long start, long end) throws IOException {
    ByteBuffer buf = copyBuffers.get();
    obj.lock.readLock().lock();
    try {
      if (obj.closed) {
        return false;
      }
      for (long pos = start; pos < end; ) {
        int n = (int) Math.min(COPY_CHUNK, end - pos);
        buf.clear().limit(n);
        while (buf.hasRemaining()) {
          if (Syscalls.pread(srcFd, buf, pos + buf.position()) == 0) {
            break;
          }
        }
        while (buf.hasRemaining()) {
          buf.put((byte) 0);
        }
        buf.flip();
        Syscalls.pwriteFully(obj.fd, buf, pos);
        bytesWritten.add(n);
        pos += n;
      }
      return true;
    } finally {
      obj.lock.readLock().unlock();
    }
  }

  private void complete(CacheObject obj, int msgId) {
    obj.lock.readLock().lock();
    try {
      if (!obj.closed) {
        CachefilesDevice.readComplete(obj.fd, msgId);
      }
    } catch (SyscallException e) {
      LOG.error("cachefiles: READ_COMPLETE {} on {} failed: {}", msgId, obj, e.getMessage());
    } finally {
      obj.lock.readLock().unlock();
    }
  }

  private void handleClose(CachefilesMessage.Close c) {
    closes.increment();
    CacheObject obj = objects.remove(c.objectId());
    if (obj != null) {
      closeObject(obj);
    }
  }

  // Waits for writes in progress on the fd: a reused fd number must never get this object's data.
  private static void closeObject(CacheObject obj) {
    obj.lock.writeLock().lock();
    try {
      if (!obj.closed) {
        obj.closed = true;
        closeQuietly(obj.fd);
      }
    } finally {
      obj.lock.writeLock().unlock();
    }
  }

  /**
   * Checks that this machine can run the backend: {@code /dev/cachefiles}, an on-demand bind in
   * {@code dir} (which must be on ext4/xfs/btrfs) and an on-demand EROFS mount attempt answered by
   * the probe itself. Empty when usable, else why not. If {@code fdStore} still holds a devnode of
   * a previous daemon, the backend is usable (it was bound before) and nothing is touched.
   */
  public static Optional<String> probe(Path dir, FdStore fdStore) {
    if (holdsDevnode(fdStore)) {
      return Optional.empty();
    }
    return CachefilesProbe.run(dir);
  }

  /**
   * Whether {@code fdStore} handed back the {@code /dev/cachefiles} fd of an earlier daemon. Then
   * cachefiles was bound before, and the device is busy (it allows one open at a time): a new
   * backend must take that fd and {@code restore}, not open the device again.
   */
  public static boolean holdsDevnode(FdStore fdStore) {
    return fdStore != null && fdStore.untaken().containsKey(DEVNODE_FD_NAME);
  }

  /** {@link #probe(Path, FdStore)} in the default cache directory, without an fd store. */
  public static Optional<String> probe() {
    return probe(CachefilesOptions.fromEnvironment().cacheDir(), null);
  }

  static void closeQuietly(int fd) {
    if (fd < 0) {
      return;
    }
    try {
      Syscalls.close(fd);
    } catch (SyscallException e) {
      LOG.debug("close({}) failed: {}", fd, e.getMessage());
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
