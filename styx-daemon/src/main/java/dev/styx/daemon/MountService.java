package dev.styx.daemon;

import dev.styx.api.ApiError;
import dev.styx.api.MountRequest;
import dev.styx.api.StyxService;
import dev.styx.chunk.ChunkDigest;
import dev.styx.db.DaemonParams;
import dev.styx.db.ImageRecord;
import dev.styx.db.ImageState;
import dev.styx.db.StyxDb;
import dev.styx.fetch.FetchConfig;
import dev.styx.fetch.FetchStats;
import dev.styx.fetch.HttpChunkSource;
import dev.styx.kernel.Backend;
import dev.styx.kernel.Syscalls;
import dev.styx.manifest.ChunkProvider;
import dev.styx.manifest.ChunkedManifest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEnvelope;
import dev.styx.manifest.ManifestFormatException;
import dev.styx.manifest.ManifestObject;
import dev.styx.manifest.SignedManifest;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabStore;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mount orchestration: manifest (from the database or the manifester, signature checked against the
 * trusted keys), chunk placement, image build, fetching what is missing (eager backends), the mount
 * itself, and every state transition recorded in the database. One mount or unmount per store path
 * at a time; different paths proceed in parallel and share chunks.
 */
public final class MountService implements StyxService {
  private static final Logger log = LoggerFactory.getLogger(MountService.class);

  private final DaemonConfig config;
  private final StyxDb db;
  private final SlabStore slabs;
  private final Backend backend;
  private final ImageEncoder encoder;
  private final ManifestClient manifests;
  private final ChunkSupply supply;
  private final DaemonMetrics metrics = new DaemonMetrics();
  private final FetchStats fetchStats = new FetchStats();
  private final ConcurrentHashMap<String, ReentrantLock> pathLocks = new ConcurrentHashMap<>();
  private final Set<Integer> attached = ConcurrentHashMap.newKeySet();
  private volatile HttpChunkSource source;
  private volatile DaemonParams params;
  private volatile NixKeyring trusted = NixKeyring.of();

  public MountService(
      DaemonConfig config, StyxDb db, SlabStore slabs, Backend backend, ImageEncoder encoder)
      throws IOException {
    this.config = config;
    this.db = db;
    this.slabs = slabs;
    this.backend = backend;
    this.encoder = encoder;
    this.manifests = new ManifestClient(Duration.ofSeconds(5));
    this.supply = new ChunkSupply(db, slabs, () -> source, config.fillTimeout());
    Files.createDirectories(config.imageDir());
    Files.createDirectories(config.privateDir());
    Optional<DaemonParams> p = db.params();
    if (p.isPresent()) {
      apply(p.get());
    }
  }

  public ChunkSupply supply() {
    return supply;
  }

  /** The slab files. */
  public SlabStore slabs() {
    return slabs;
  }

  public DaemonMetrics metricsCounters() {
    return metrics;
  }

  public FetchStats fetchStats() {
    return fetchStats;
  }

  public Backend backend() {
    return backend;
  }

  // ---- init

  @Override
  public void init(DaemonParams p) throws IOException {
    try {
      keyring(p.trustedKeys());
      FetchConfig.defaults(URI.create(p.chunksUrl()));
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("bad init parameters: " + e.getMessage());
    }
    db.putParams(p);
    apply(p);
    log.info(
        "initialized: manifester {}, chunks {}, {} trusted key(s)",
        p.manifesterUrl(),
        p.chunksUrl(),
        p.trustedKeys().size());
  }

  private static NixKeyring keyring(List<String> keys) {
    return NixKeyring.of(keys.stream().map(NixPublicKey::parse).toList());
  }

  private synchronized void apply(DaemonParams p) {
    HttpChunkSource old = source;
    trusted = keyring(p.trustedKeys());
    source =
        new HttpChunkSource(
            FetchConfig.defaults(URI.create(p.chunksUrl()))
                .withConcurrency(config.fetchConcurrency()),
            fetchStats);
    params = p;
    if (old != null) {
      old.close();
    }
  }

  // ---- mount

  @Override
  public void mount(MountRequest r) throws IOException {
    StorePath sp;
    try {
      sp = StorePathArg.parse(r.storePath());
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    if (r.upstream() == null || r.upstream().isBlank()) {
      throw ApiError.badRequest("Upstream is required");
    }
    Path target = checkMountPoint(r.mountPoint());
    DaemonParams p = params;
    if (p == null) {
      throw new ApiError(412, "daemon not initialized: run 'styx init' first");
    }
    String key = sp.baseName();
    ReentrantLock lock = pathLocks.computeIfAbsent(key, k -> new ReentrantLock());
    lock.lock();
    try {
      Optional<ImageRecord> cur = db.image(key);
      if (cur.isPresent() && cur.get().state() == ImageState.MOUNTED) {
        ImageRecord c = cur.get();
        if (!c.mountPoint().equals(target.toString())) {
          throw new ApiError(409, key + " is already mounted on " + c.mountPoint());
        }
        if (isInPlace(c)) {
          return;
        }
        log.info("{} recorded as mounted on {} but is not; mounting again", key, target);
      }
      doMount(key, sp, r.upstream(), target, r.narSize(), cur.orElse(null), p);
    } finally {
      lock.unlock();
    }
  }

  private static Path checkMountPoint(String mp) throws ApiError {
    if (mp == null || mp.isEmpty() || mp.indexOf('\0') >= 0) {
      throw ApiError.badRequest("MountPoint is required");
    }
    Path t = Path.of(mp);
    if (!t.isAbsolute() || !t.normalize().toString().equals(mp) || mp.equals("/")) {
      throw ApiError.badRequest("MountPoint must be an absolute, normalized path: " + mp);
    }
    return t;
  }

  private void doMount(
      String key,
      StorePath sp,
      String upstream,
      Path target,
      long narSize,
      ImageRecord cur,
      DaemonParams p)
      throws IOException {
    long t0 = System.nanoTime();
    Instant deadline = Instant.now().plus(config.mountTimeout());
    ImageRecord rec;
    if (cur == null || cur.state().acceptsMountRequest()) {
      ImageRecord fresh =
          cur == null
              ? ImageRecord.requested(key, upstream, target.toString(), backend.name(), narSize)
              : cur.to(ImageState.REQUESTED, null)
                  .withRequest(upstream, target.toString(), backend.name(), narSize);
      rec = db.updateImage(key, old -> fresh);
    } else if (cur.state() == ImageState.MOUNTED) {
      rec = cur; // remount of a stale record
    } else {
      // REQUESTED/FETCHING/UNMOUNTING left by a crash: the path lock says nobody works on it now.
      rec = db.updateImage(key, old -> old.to(ImageState.FAILED, "interrupted"));
      ImageRecord fresh =
          rec.to(ImageState.REQUESTED, null)
              .withRequest(upstream, target.toString(), backend.name(), narSize);
      rec = db.updateImage(key, old -> fresh);
    }
    boolean mounted = false;
    try {
      Manifest m = manifest(key, upstream, deadline, p);
      ImagePlan.Kind kind = ImagePlan.kind(m);
      List<ChunkRef> refs = ImagePlan.chunks(m);
      List<Placement> placed = db.place(refs);
      Path image = null;
      List<Integer> slabIds = List.of();
      if (kind != ImagePlan.Kind.SYMLINK) {
        Map<ChunkDigest, Placement> byDigest = new HashMap<>();
        for (Placement pl : placed) {
          byDigest.put(pl.digest(), pl);
        }
        if (backend.lazy()) {
          supply.register(m, byDigest);
        }
        slabIds = ImagePlan.slabsInDeviceOrder(placed);
        image = imageFile(sp.hashPart());
        // Placements never move and a newly fetched manifest deletes the old image, so an image
        // on disk (written atomically) is the one this manifest and these placements make.
        if (!Files.isRegularFile(image)) {
          ImagePlan.Built built = ImagePlan.build(m, byDigest);
          if (!built.slabs().equals(slabIds)) {
            throw new IllegalStateException("device order mismatch for " + key);
          }
          writeImage(image, encoder.encode(built.image()));
        }
      }
      long chunkBytes = refs.stream().mapToLong(ChunkRef::length).sum();
      final List<Integer> ids = slabIds;
      rec =
          db.updateImage(
              key,
              old ->
                  old.to(ImageState.FETCHING, null)
                      .withImage(kind.label(), ids, refs.size(), chunkBytes));
      long fetched = 0;
      if (!backend.lazy()) {
        fetched = supply.ensure(placed, deadline);
        metrics.fetchedBytes.add(fetched);
      }
      List<Backend.Slab> devs = attach(slabIds);
      place(kind, m, image, devs, target, sp.hashPart());
      mounted = true;
      long ms = (System.nanoTime() - t0) / 1_000_000;
      final long f = fetched;
      db.updateImage(
          key, old -> old.to(ImageState.MOUNTED, null).withFetch(old.fetchedBytes() + f, ms));
      metrics.mounts.increment();
      metrics.mountMillis.add(ms);
      log.info(
          "mounted {} on {} ({}, {} chunks, {} bytes fetched) in {} ms",
          key,
          target,
          kind.label(),
          refs.size(),
          fetched,
          ms);
    } catch (IOException | RuntimeException e) {
      metrics.mountFailures.increment();
      if (mounted) {
        try {
          unplace(target);
        } catch (IOException ue) {
          log.warn("cannot undo mount of {} after failure: {}", target, ue.toString());
        }
      }
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      try {
        db.updateImage(key, old -> old.to(ImageState.FAILED, msg));
      } catch (IOException | RuntimeException dbe) {
        log.error("cannot record failure of {}: {}", key, dbe.toString());
      }
      log.warn("mount of {} failed: {}", key, msg);
      if (e instanceof ApiError a) {
        throw a;
      }
      throw new IOException("mount of " + key + " failed: " + msg, e);
    }
  }

  /** The verified manifest: the stored copy if any, else the manifester's (then stored). */
  private Manifest manifest(String key, String upstream, Instant deadline, DaemonParams p)
      throws IOException {
    Optional<byte[]> stored = db.manifest(key);
    if (stored.isPresent()) {
      try {
        return verify(key, SignedManifest.decode(stored.get()));
      } catch (IOException e) {
        log.warn("stored manifest of {} unusable ({}); fetching again", key, e.getMessage());
      }
    }
    metrics.manifestFetches.increment();
    byte[] obj = manifests.fetch(p.manifesterUrl(), upstream, "/nix/store/" + key, deadline);
    SignedManifest sm;
    try {
      ManifestEnvelope env = ManifestObject.decode(obj);
      sm =
          env instanceof ChunkedManifest cm
              ? cm.join(manifestChunks(key, cm, deadline))
              : env.join(null);
    } catch (ManifestFormatException e) {
      metrics.manifestRejects.increment();
      throw new IOException("manifest for " + key + " is malformed: " + e.getMessage(), e);
    }
    Manifest m = verify(key, sm);
    Files.deleteIfExists(imageFile(m.hashPart()));
    db.putManifest(key, sm.encode());
    return m;
  }

  /**
   * Fetches the chunks of a large manifest through the chunk source (each verified against its
   * digest on arrival); they are kept in memory only, since the joined manifest is what is stored.
   */
  private ChunkProvider manifestChunks(String key, ChunkedManifest cm, Instant deadline)
      throws IOException {
    HttpChunkSource s = source;
    if (s == null) {
      throw new IOException("daemon not initialised: no chunk source for the manifest of " + key);
    }
    Map<ChunkDigest, ChunkRef> distinct = new LinkedHashMap<>();
    for (ChunkRef c : cm.chunks()) {
      distinct.putIfAbsent(c.digest(), c);
    }
    Map<ChunkDigest, byte[]> got = new ConcurrentHashMap<>();
    s.fetch(
        List.copyOf(distinct.values()),
        c -> {
          byte[] b = new byte[c.length()];
          c.data().get(b);
          got.put(c.digest(), b);
        },
        deadline);
    metrics.manifestChunks.add(distinct.size());
    log.info("manifest of {}: {} bytes joined from {} chunks", key, cm.size(), distinct.size());
    return (d, len) -> {
      byte[] b = got.get(d);
      if (b == null) {
        throw new IOException("manifest chunk " + d.hex() + " of " + key + " was not fetched");
      }
      return b;
    };
  }

  private Manifest verify(String key, SignedManifest sm) throws IOException {
    Manifest m;
    try {
      m = sm.verify(trusted);
    } catch (ManifestFormatException e) {
      metrics.manifestRejects.increment();
      throw new ApiError(403, "manifest for " + key + " refused: " + e.getMessage());
    }
    if (!m.baseName().equals(key)) {
      metrics.manifestRejects.increment();
      throw new ApiError(
          403, "manifest refused: it describes " + m.storePath() + ", not /nix/store/" + key);
    }
    return m;
  }

  private Path imageFile(String hash) {
    return config.imageDir().resolve(hash + ".erofs");
  }

  private void writeImage(Path dest, byte[] bytes) throws IOException {
    Path tmp = Files.createTempFile(config.imageDir(), dest.getFileName() + "-", ".tmp");
    try {
      Files.write(tmp, bytes);
      try (var ch =
          java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      try {
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cache dir must support atomic rename", e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private List<Backend.Slab> attach(List<Integer> ids) throws IOException {
    List<Backend.Slab> out = new ArrayList<>(ids.size());
    for (int id : ids) {
      int fd = slabs.slab(id);
      Backend.Slab s = new Backend.Slab(id, slabs.file(id), fd, slabs.isDirect(id));
      synchronized (attached) {
        if (!attached.contains(id)) {
          backend.attachSlab(s);
          attached.add(id);
        }
      }
      out.add(s);
    }
    return out;
  }

  /** Puts the store path at {@code target}: mount, bind-mounted file, or symlink. */
  private void place(
      ImagePlan.Kind kind,
      Manifest m,
      Path image,
      List<Backend.Slab> devs,
      Path target,
      String hash)
      throws IOException {
    switch (kind) {
      case DIRECTORY -> {
        boolean created = prepareDir(target);
        try {
          backend.mount(image, devs, target);
        } catch (IOException e) {
          if (created) {
            Files.deleteIfExists(target);
          }
          throw e;
        }
      }
      case FILE -> {
        boolean created = prepareFile(target);
        Path priv = config.privateDir().resolve(hash);
        Files.createDirectories(priv);
        try {
          backend.mount(image, devs, priv);
          try {
            Syscalls.mount(
                priv.resolve(ImagePlan.BARE_NAME).toString(), target, null, Syscalls.MS_BIND, null);
          } finally {
            backend.unmount(priv);
          }
        } catch (IOException e) {
          if (created) {
            Files.deleteIfExists(target);
          }
          throw e;
        } finally {
          Files.deleteIfExists(priv);
        }
      }
      case SYMLINK -> {
        String want = ImagePlan.symlinkTarget(m);
        if (Files.isSymbolicLink(target)) {
          if (Files.readSymbolicLink(target).toString().equals(want)) {
            return;
          }
          throw new IOException(target + " is a symlink to something else");
        }
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          try {
            Files.delete(target);
          } catch (DirectoryNotEmptyException e) {
            throw new IOException("mount point " + target + " is a non-empty directory", e);
          }
        } else if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new IOException("mount point " + target + " exists and is not a directory");
        }
        Files.createDirectories(target.getParent());
        Files.createSymbolicLink(target, Path.of(want));
      }
    }
  }

  private static boolean prepareDir(Path target) throws IOException {
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("mount point " + target + " exists and is not a directory");
    }
    Files.createDirectories(target);
    return true;
  }

  private static boolean prepareFile(Path target) throws IOException {
    if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      try {
        Files.delete(target);
      } catch (DirectoryNotEmptyException e) {
        throw new IOException("mount point " + target + " is a non-empty directory", e);
      }
    } else if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("mount point " + target + " exists and is not a file");
    }
    Files.createDirectories(target.getParent());
    Files.createFile(target);
    return true;
  }

  /** Whether a MOUNTED record is really in place (mounted, or the symlink exists). */
  private boolean isInPlace(ImageRecord r) throws IOException {
    Path t = Path.of(r.mountPoint());
    if ("symlink".equals(r.kind())) {
      return Files.isSymbolicLink(t);
    }
    return MountTable.isMountPoint(t);
  }

  private void unplace(Path target) throws IOException {
    if (Files.isSymbolicLink(target)) {
      Files.delete(target);
      return;
    }
    if (MountTable.isMountPoint(target)) {
      backend.unmount(target);
    }
  }

  // ---- umount

  @Override
  public void umount(String storePath) throws IOException {
    String hash;
    try {
      hash = StorePathArg.hashPart(storePath);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest(e.getMessage());
    }
    ImageRecord rec = null;
    for (ImageRecord r : db.images()) {
      if (r.storePath().startsWith(hash + "-")) {
        rec = r;
      }
    }
    if (rec == null) {
      throw new ApiError(404, storePath + " is not mounted (unknown to this daemon)");
    }
    String key = rec.storePath();
    ReentrantLock lock = pathLocks.computeIfAbsent(key, k -> new ReentrantLock());
    lock.lock();
    try {
      rec = db.image(key).orElseThrow();
      if (rec.state() != ImageState.MOUNTED) {
        throw new ApiError(404, key + " is not mounted (state " + rec.state() + ")");
      }
      db.updateImage(key, old -> old.to(ImageState.UNMOUNTING, null));
      Path target = Path.of(rec.mountPoint());
      try {
        if ("symlink".equals(rec.kind())) {
          if (Files.isSymbolicLink(target)) {
            Files.delete(target);
          }
        } else if (MountTable.isMountPoint(target)) {
          backend.unmount(target);
        }
      } catch (IOException e) {
        db.updateImage(key, old -> old.to(ImageState.MOUNTED, "unmount failed: " + e.getMessage()));
        throw new IOException("unmount of " + key + " failed: " + e.getMessage(), e);
      }
      db.updateImage(key, old -> old.to(ImageState.UNMOUNTED, null));
      metrics.umounts.increment();
      log.info("unmounted {} from {}", key, target);
    } finally {
      lock.unlock();
    }
  }

  // ---- start-up

  /**
   * Brings the recorded state back after a restart or reboot: images recorded as mounted are
   * remounted unless still in place; interrupted mounts are marked failed.
   */
  public void restore() throws IOException {
    if (backend.lazy()) {
      // Mounts still in place from before a restart raise events on their slabs right away.
      attach(slabs.slabIds());
    }
    for (ImageRecord r : db.images()) {
      switch (r.state()) {
        case REQUESTED, FETCHING -> {
          db.updateImage(
              r.storePath(), old -> old.to(ImageState.FAILED, "interrupted by a daemon restart"));
          log.info("{}: mount was interrupted by a restart; marked failed", r.storePath());
        }
        case UNMOUNTING -> {
          boolean still = isInPlace(r);
          db.updateImage(
              r.storePath(),
              old -> old.to(still ? ImageState.MOUNTED : ImageState.UNMOUNTED, null));
        }
        case MOUNTED -> {
          if (isInPlace(r)) {
            log.info("{} still mounted on {}", r.storePath(), r.mountPoint());
            if (backend.lazy()) {
              registerFiles(r.storePath());
            }
            continue;
          }
          try {
            DaemonParams p = params;
            if (p == null) {
              throw new IOException("daemon not initialized");
            }
            ReentrantLock lock = pathLocks.computeIfAbsent(r.storePath(), k -> new ReentrantLock());
            lock.lock();
            try {
              doMount(
                  r.storePath(),
                  StorePathArg.parse(r.storePath()),
                  r.upstream(),
                  Path.of(r.mountPoint()),
                  r.narSize(),
                  r,
                  p);
            } finally {
              lock.unlock();
            }
            log.info("remounted {} on {}", r.storePath(), r.mountPoint());
          } catch (IOException | RuntimeException e) {
            log.warn("cannot remount {}: {}", r.storePath(), e.getMessage());
          }
        }
        default -> {}
      }
    }
  }

  /** Tells read-ahead about the files of an image mounted before this process started. */
  private void registerFiles(String key) {
    try {
      Optional<byte[]> stored = db.manifest(key);
      if (stored.isPresent()) {
        Manifest m = verify(key, SignedManifest.decode(stored.get()));
        List<ChunkDigest> ds = ImagePlan.chunks(m).stream().map(ChunkRef::digest).toList();
        supply.register(m, db.lookupAll(ds));
      }
    } catch (IOException | RuntimeException e) {
      log.warn("{}: no read-ahead for its files: {}", key, e.getMessage());
    }
  }

  // ---- prefetch

  /**
   * What {@code /prefetch} did: the store path and sub-path, the files and chunks under it, bytes
   * of chunk data under it and bytes that were (or, for a dry run, would be) fetched.
   */
  public record PrefetchResult(
      String storePath, String subPath, int files, int chunks, long bytes, long missingBytes) {}

  @Override
  public PrefetchResult prefetch(String path, boolean dryRun) throws IOException {
    if (path == null || path.isEmpty() || path.indexOf('\0') >= 0 || !path.startsWith("/")) {
      throw ApiError.badRequest("Path must be an absolute path: " + path);
    }
    String norm = Path.of(path).normalize().toString();
    ImageRecord rec = null;
    String sub = null;
    int bestRoot = -1;
    for (ImageRecord r : db.images()) {
      if (r.state() != ImageState.MOUNTED) {
        continue;
      }
      String[] roots = {"/nix/store/" + r.storePath(), r.mountPoint()};
      for (String root : roots) {
        if ((norm.equals(root) || norm.startsWith(root + "/")) && root.length() > bestRoot) {
          bestRoot = root.length();
          rec = r;
          sub = norm.equals(root) ? "/" : norm.substring(root.length());
        }
      }
    }
    if (rec == null) {
      throw new ApiError(404, path + " is not under a store path mounted by this daemon");
    }
    Optional<byte[]> stored = db.manifest(rec.storePath());
    if (stored.isEmpty()) {
      throw new IOException("no manifest stored for " + rec.storePath());
    }
    Manifest m = verify(rec.storePath(), SignedManifest.decode(stored.get()));
    String under = sub;
    boolean found = false;
    int files = 0;
    Map<ChunkDigest, Integer> wanted = new LinkedHashMap<>();
    for (dev.styx.manifest.ManifestEntry e : m.entries()) {
      if (!under.equals("/") && !e.path().equals(under) && !e.path().startsWith(under + "/")) {
        continue;
      }
      found = true;
      if (e instanceof dev.styx.manifest.ManifestEntry.ChunkedFile f) {
        files++;
        for (int i = 0; i < f.digests().size(); i++) {
          wanted.putIfAbsent(f.digests().get(i), f.chunkLength(i));
        }
      }
    }
    if (!found) {
      throw new ApiError(404, "no " + under + " in " + rec.storePath());
    }
    Map<ChunkDigest, Placement> placed = db.lookupAll(wanted.keySet());
    long bytes = 0;
    long missing = 0;
    for (Map.Entry<ChunkDigest, Integer> w : wanted.entrySet()) {
      bytes += w.getValue();
      Placement p = placed.get(w.getKey());
      if (p == null) {
        throw new IOException("chunk " + w.getKey() + " of " + rec.storePath() + " is not placed");
      }
      if (!p.present()) {
        missing += w.getValue();
      }
    }
    if (!dryRun && missing > 0) {
      long fetched = supply.ensure(placed.values(), Instant.now().plus(config.mountTimeout()));
      metrics.fetchedBytes.add(fetched);
    }
    log.info(
        "prefetch{} {}{}: {} files, {} chunks, {} of {} bytes missing",
        dryRun ? " (dry run)" : "",
        rec.storePath(),
        under.equals("/") ? "" : under,
        files,
        wanted.size(),
        missing,
        bytes);
    return new PrefetchResult(rec.storePath(), under, files, wanted.size(), bytes, missing);
  }

  // ---- status

  @Override
  public Object debug() throws IOException {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("backend", backend.name());
    out.put("lazy", backend.lazy());
    out.put("cacheDir", config.cacheDir().toString());
    out.put("params", params);
    out.put("images", db.images());
    List<Map<String, Object>> sl = new ArrayList<>();
    for (Map.Entry<Integer, Long> e : db.slabUsage().entrySet()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("id", e.getKey());
      s.put("file", slabs.file(e.getKey()).toString());
      s.put("usedBlocks", e.getValue());
      sl.add(s);
    }
    out.put("slabs", sl);
    StyxDb.ChunkTotals t = db.chunkTotals();
    out.put("chunks", t);
    out.put("bytesOnDisk", slabs.bytesOnDisk());
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("chunks", fetchStats.chunks.sum());
    f.put("manifestChunks", metrics.manifestChunks.sum()); // of "chunks": large manifests joined
    f.put("bytes", fetchStats.bytes.sum());
    f.put("wireBytes", fetchStats.wireBytes.sum());
    f.put("singleRequests", fetchStats.singleRequests.sum());
    f.put("batchRequests", fetchStats.batchRequests.sum());
    f.put("retries", fetchStats.retries.sum());
    f.put("errors", fetchStats.errors.sum());
    f.put("digestMismatches", fetchStats.digestMismatches.sum());
    out.put("fetch", f);
    return out;
  }

  @Override
  public String metrics() throws IOException {
    StringBuilder sb = new StringBuilder();
    Map<ImageState, Integer> byState = new LinkedHashMap<>();
    for (ImageState s : ImageState.values()) {
      byState.put(s, 0);
    }
    for (ImageRecord r : db.images()) {
      byState.merge(r.state(), 1, Integer::sum);
    }
    sb.append("# HELP styx_images Store path images by state.\n# TYPE styx_images gauge\n");
    byState.forEach(
        (s, n) ->
            sb.append("styx_images{state=\"")
                .append(s.name().toLowerCase(java.util.Locale.ROOT))
                .append("\"} ")
                .append(n)
                .append('\n'));
    counter(sb, "styx_mounts_total", "Successful mounts.", metrics.mounts.sum());
    counter(sb, "styx_mount_failures_total", "Failed mounts.", metrics.mountFailures.sum());
    counter(sb, "styx_umounts_total", "Unmounts.", metrics.umounts.sum());
    counter(
        sb, "styx_mount_seconds_total", "Time spent mounting.", metrics.mountMillis.sum() / 1000.0);
    counter(sb, "styx_manifest_fetches_total", "Manifests fetched.", metrics.manifestFetches.sum());
    counter(sb, "styx_manifest_rejects_total", "Manifests refused.", metrics.manifestRejects.sum());
    counter(
        sb,
        "styx_manifest_chunks_fetched_total",
        "Chunks of large manifests fetched to join them (also counted in the chunk fetch totals).",
        metrics.manifestChunks.sum());
    counter(sb, "styx_fetch_chunks_total", "Chunks fetched.", fetchStats.chunks.sum());
    counter(
        sb,
        "styx_fetch_bytes_total",
        "Chunk bytes fetched (uncompressed).",
        fetchStats.bytes.sum());
    counter(
        sb, "styx_fetch_wire_bytes_total", "Response bytes received.", fetchStats.wireBytes.sum());
    counter(
        sb,
        "styx_fetch_single_requests_total",
        "Single-chunk requests.",
        fetchStats.singleRequests.sum());
    counter(
        sb, "styx_fetch_batch_requests_total", "Batch requests.", fetchStats.batchRequests.sum());
    counter(sb, "styx_fetch_retries_total", "Retried requests.", fetchStats.retries.sum());
    counter(sb, "styx_fetch_errors_total", "Failed fetches.", fetchStats.errors.sum());
    counter(
        sb,
        "styx_fetch_digest_mismatches_total",
        "Chunks rejected by digest.",
        fetchStats.digestMismatches.sum());
    StyxDb.ChunkTotals t = db.chunkTotals();
    gauge(sb, "styx_chunks_placed", "Chunks with a slab placement.", t.placed());
    gauge(sb, "styx_chunks_present", "Chunks present in the slabs.", t.present());
    gauge(sb, "styx_chunk_bytes_present", "Bytes of present chunks.", t.presentBytes());
    gauge(sb, "styx_slab_bytes_on_disk", "Bytes allocated by slab files.", slabs.bytesOnDisk());
    gauge(sb, "styx_fetches_in_flight", "Chunks being fetched.", supply.inflight().inFlight());
    return sb.toString();
  }

  private static void counter(StringBuilder sb, String name, String help, Number v) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" counter\n");
    sb.append(name).append(' ').append(v).append('\n');
  }

  private static void gauge(StringBuilder sb, String name, String help, Number v) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" gauge\n");
    sb.append(name).append(' ').append(v).append('\n');
  }

  /** Closes network clients and the chunk supply's threads (mounts stay). */
  public void close() {
    HttpChunkSource s = source;
    if (s != null) {
      s.close();
    }
    manifests.close();
    supply.close();
  }
}
