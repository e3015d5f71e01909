package dev.styx.daemon;

import dev.styx.chunk.ChunkDigest;
import dev.styx.db.StyxDb;
import dev.styx.fetch.ChunkSource;
import dev.styx.fetch.InFlightFetches;
import dev.styx.kernel.SlabFiller;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import dev.styx.slab.SlabStore;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Gets chunks into the slabs: fetch (once, however many callers want a chunk), write the verified
 * bytes at their placement, fdatasync, and only then record presence in the database. The same path
 * serves eager mounts (all chunks of a path) and lazy backends' {@link SlabFiller} requests.
 *
 * <p>Lazy reads: a requested slab range maps to the chunks covering it, fetched together (one batch
 * request when several) and shared with concurrent readers; then a bounded read-ahead runs in the
 * background along the file being read, never past the file's end: {@link #READ_AHEAD_BYTES} bytes
 * (at most {@link #READ_AHEAD_CHUNKS} chunks) after the last chunk of a range that does not follow
 * the file's previous fill, doubling for each fill that does, up to {@link #MAX_READ_AHEAD_BYTES}
 * ({@link #MAX_READ_AHEAD_CHUNKS} chunks) for a file read sequentially. Presence is mirrored in
 * memory so warm reads are answered without I/O.
 */
public final class ChunkSupply implements SlabFiller, AutoCloseable {
  /** Read-ahead bound, in bytes of chunk data beyond the requested range (same file only). */
  public static final long READ_AHEAD_BYTES = 1 << 20;

  /** Read-ahead bound, in chunks beyond the requested range (same file only). */
  public static final int READ_AHEAD_CHUNKS = 16;

  /** Largest read-ahead window of a file read sequentially, in bytes. */
  public static final long MAX_READ_AHEAD_BYTES = 32 << 20;

  /** Largest read-ahead window of a file read sequentially, in chunks. */
  public static final int MAX_READ_AHEAD_CHUNKS = 64;

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ChunkSupply.class);
  private final StyxDb db;
  private final SlabStore slabs;
  private final Supplier<ChunkSource> source;
  private final InFlightFetches inflight = new InFlightFetches();
  private final Duration fillTimeout;
  private final PresenceMap presence = new PresenceMap();
  private final FileRuns files = new FileRuns();
  private final LongAdder readAheadChunks = new LongAdder();

  /**
   * Chunks whose on-demand fetch just failed, with the time: the kernel retries a failed read
   * (read-ahead, then page by page), and each retry fails at once for {@link #FAILURE_MEMORY_NANOS}
   * instead of waiting out another fill timeout, so the reader sees EIO after one timeout.
   */
  private final java.util.concurrent.ConcurrentHashMap<ChunkDigest, Long> failedAt =
      new java.util.concurrent.ConcurrentHashMap<>();

  private static final long FAILURE_MEMORY_NANOS = 2_000_000_000L;

  /**
   * When the chunk server last refused a connection. A read of a multi-chunk file makes the kernel
   * retry page by page, each page a different chunk; without this every one of them would spend its
   * own retries on a server that is down, and the reader would wait many timeouts for its EIO.
   */
  private volatile long sourceDownAt;

  private volatile boolean sourceDown;

  /**
   * Platform threads for the native calls of the fill path: a virtual thread inside a native call
   * (pwrite, fdatasync through jnr-ffi) pins its carrier, and with one carrier per core a few slow
   * writes or syncs would stall every other virtual thread (HTTP reads, kernel event fills).
   */
  private final ExecutorService slabWriters =
      Executors.newFixedThreadPool(
          Math.max(2, Runtime.getRuntime().availableProcessors()),
          Thread.ofPlatform().name("slab-write-", 0).daemon(true).factory());

  private final Thread committer;
  private volatile boolean closed;

  public ChunkSupply(
      StyxDb db, SlabStore slabs, Supplier<ChunkSource> source, Duration fillTimeout) {
    this.db = db;
    this.slabs = slabs;
    this.source = source;
    this.fillTimeout = fillTimeout;
    this.committer = Thread.ofPlatform().name("slab-commit").daemon(true).start(this::commitLoop);
  }

  public InFlightFetches inflight() {
    return inflight;
  }

  /** Chunks asked for by read-ahead so far (fetched or found present). */
  public long readAheadChunks() {
    return readAheadChunks.sum();
  }

  /**
   * Mirrors every chunk the database records present into memory, so that after a restart reads of
   * present data on mounts left in place are answered on the backend's event thread.
   */
  public void loadPresence() throws IOException {
    db.forEachPresent(p -> presence.add(p.location()));
  }

  /** Makes the files of a lazily mounted image known to read-ahead. */
  public void register(dev.styx.manifest.Manifest m, Map<ChunkDigest, Placement> placements) {
    files.register(m, placements);
  }

  /**
   * Ensures every placed chunk is present (durable and recorded); returns the chunk bytes this call
   * fetched itself (0 when all were present or fetched by concurrent callers).
   */
  public long ensure(Collection<Placement> placements, Instant deadline) throws IOException {
    return ensure(placements, deadline, InFlightFetches.Wait.COMMITTED);
  }

  /**
   * Ensures every placed chunk is at least written to its slab, readable through the page cache;
   * commits run in the background (a kernel read waiting on a fill need not wait for fdatasync).
   * In-memory presence, which lets later reads through without a fill, is set as each chunk is
   * written and taken back if its commit fails; the database records only committed chunks.
   */
  long ensureReadable(Collection<Placement> placements, Instant deadline) throws IOException {
    return ensure(placements, deadline, InFlightFetches.Wait.WRITTEN);
  }

  private long ensure(Collection<Placement> placements, Instant deadline, InFlightFetches.Wait wait)
      throws IOException {
    Map<ChunkDigest, SlabLocation> where = new HashMap<>();
    List<ChunkRef> missing = new ArrayList<>();
    for (Placement p : placements) {
      if (p.present()) {
        presence.add(p.location());
      } else if (where.putIfAbsent(p.digest(), p.location()) == null) {
        missing.add(new ChunkRef(p.digest(), p.location().length()));
      }
    }
    if (missing.isEmpty()) {
      return 0;
    }
    ChunkSource src = source.get();
    if (src == null) {
      throw new IOException("daemon not initialized: no chunk URL (run styx init)");
    }
    LongAdder bytes = new LongAdder();
    inflight.ensure(
        missing,
        d -> {
          boolean present = db.lookup(d).map(Placement::present).orElse(false);
          if (present) {
            presence.add(where.get(d)); // committed meanwhile by an earlier caller
          }
          return present;
        },
        src,
        c -> {
          SlabLocation l = where.get(c.digest());
          writeChunk(l, c);
          bytes.add(c.length());
          if (wait == InFlightFetches.Wait.WRITTEN) {
            presence.add(l); // readable now; removed again if its commit fails
          }
        },
        stored -> {
          try {
            commit(stored, where);
          } catch (IOException e) {
            log.warn(
                "commit of {} chunks failed (they stay unrecorded and are fetched again when"
                    + " read): {}",
                stored.size(),
                e.getMessage());
            throw e;
          }
        },
        deadline,
        wait);
    return bytes.sum();
  }

  /** Chunks written and waiting for a group commit. */
  private record PendingCommit(
      Map<ChunkDigest, SlabLocation> chunks, CompletableFuture<Void> done) {}

  private final LinkedBlockingQueue<PendingCommit> commitQueue = new LinkedBlockingQueue<>();

  /**
   * Makes written chunks durable and records them present: queues them for the committer thread and
   * waits (a virtual caller parks, it does not pin its carrier).
   */
  private void commit(Collection<ChunkDigest> stored, Map<ChunkDigest, SlabLocation> where)
      throws IOException {
    Map<ChunkDigest, SlabLocation> mine = new HashMap<>();
    for (ChunkDigest d : stored) {
      mine.put(d, where.get(d));
    }
    PendingCommit me = new PendingCommit(mine, new CompletableFuture<>());
    commitQueue.add(me);
    // Checked after queueing: a close that ran in between may have drained the queue already, and
    // nobody would complete this commit. If the committer took it, it completes it either way.
    if (closed && commitQueue.remove(me)) {
      throw new IOException("chunk supply closed");
    }
    await(me.done, "commit");
  }

  /**
   * The committer thread's loop. Group commit: everything queued is made durable with one fdatasync
   * per slab and one database transaction, so concurrent lazy fills (one chunk each) do not pay a
   * sync apiece; while one group commits, the next one gathers.
   */
  private void commitLoop() {
    List<PendingCommit> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(commitQueue.take());
      } catch (InterruptedException e) {
        break;
      }
      commitQueue.drainTo(batch);
      Set<Integer> ids = new HashSet<>();
      List<ChunkDigest> all = new ArrayList<>();
      for (PendingCommit p : batch) {
        for (Map.Entry<ChunkDigest, SlabLocation> e : p.chunks().entrySet()) {
          ids.add(e.getValue().slab());
          all.add(e.getKey());
        }
      }
      try {
        slabs.sync(ids);
        db.markPresent(all);
        for (PendingCommit p : batch) {
          for (SlabLocation l : p.chunks().values()) {
            presence.add(l);
          }
        }
        batch.forEach(p -> p.done().complete(null));
      } catch (IOException | RuntimeException e) {
        for (PendingCommit p : batch) {
          for (SlabLocation l : p.chunks().values()) {
            presence.remove(l);
          }
        }
        IOException io =
            new IOException("commit of " + all.size() + " chunks failed: " + e.getMessage(), e);
        batch.forEach(p -> p.done().completeExceptionally(io));
      }
      batch.clear();
    }
    IOException closing = new IOException("chunk supply closed before the commit");
    for (PendingCommit p; (p = commitQueue.poll()) != null; ) {
      p.done().completeExceptionally(closing);
    }
  }

  /** Writes a verified chunk on a slab-write thread (see {@link #slabWriters}) and waits. */
  private void writeChunk(SlabLocation l, dev.styx.slab.VerifiedChunk c) throws IOException {
    CompletableFuture<Void> f = new CompletableFuture<>();
    try {
      slabWriters.execute(
          () -> {
            try {
              slabs.write(l, c);
              f.complete(null);
            } catch (Throwable t) {
              f.completeExceptionally(t);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IOException("chunk supply closed", e);
    }
    await(f, "slab write");
  }

  private static void await(CompletableFuture<Void> f, String what) throws IOException {
    try {
      f.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(what + " failed: " + c, c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for the " + what);
    }
  }

  /** Stops the committer and slab-write threads; commits still queued fail. */
  @Override
  public void close() {
    closed = true;
    committer.interrupt();
    slabWriters.shutdown();
    try {
      committer.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public boolean isPresent(int slabId, long offset, long length) {
    if (!presence.covers(slabId, offset, length)) {
      return false;
    }
    // A warm hit moves read-ahead along too (no I/O here: it only starts background fetches), so
    // a sequential reader finds the next chunks arriving instead of stalling at the window's edge.
    FileRuns.At at = files.covering(slabId, offset + length - 1);
    if (at != null) {
      readAhead(at);
    }
    return true;
  }

  @Override
  public void fill(int slabId, long offset, long length) throws IOException {
    Instant deadline = Instant.now().plus(fillTimeout);
    List<Placement> need = new ArrayList<>();
    long off = offset;
    long end = offset + Math.max(1, length);
    while (off < end) {
      Optional<Placement> p = db.at(slabId, off);
      if (p.isEmpty()) {
        throw new IOException("slab " + slabId + " offset " + off + " holds no placed chunk");
      }
      need.add(p.get());
      SlabLocation l = p.get().location();
      off = l.offset() + (l.blocks() << SlabLocation.BLOCK_SHIFT);
    }
    long now = System.nanoTime();
    for (Placement p : need) {
      Long t = failedAt.get(p.digest());
      if (t != null) {
        if (now - t < FAILURE_MEMORY_NANOS) {
          throw new IOException(
              "chunk " + p.digest().hex() + " failed " + (now - t) / 1_000_000 + " ms ago");
        }
        failedAt.remove(p.digest(), t);
      }
    }
    if (sourceDown && now - sourceDownAt < FAILURE_MEMORY_NANOS) {
      throw new IOException(
          "chunk server unreachable (refused a connection "
              + (now - sourceDownAt) / 1_000_000
              + " ms ago)");
    }
    readAhead(need.getLast().location());
    try {
      ensureReadable(need, deadline);
      sourceDown = false;
    } catch (IOException e) {
      long t = System.nanoTime();
      for (Placement p : need) {
        failedAt.put(p.digest(), t);
      }
      if (causedByRefusedConnection(e)) {
        sourceDownAt = t;
        sourceDown = true;
      }
      throw e;
    }
  }

  private static boolean causedByRefusedConnection(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Starts fetching, in the background, the chunks that follow {@code last} in its file, within the
   * read-ahead bounds. Failures are only logged: the read that needs a chunk will ask again.
   */
  private void readAhead(SlabLocation last) {
    FileRuns.At at = files.at(last);
    if (at != null) {
      readAhead(at);
    }
  }

  private void readAhead(FileRuns.At at) {
    List<Placement> next = new ArrayList<>();
    List<Placement> run = at.run().chunks();
    int[] range =
        at.run()
            .advance(
                at.index(),
                READ_AHEAD_BYTES,
                READ_AHEAD_CHUNKS,
                MAX_READ_AHEAD_BYTES,
                MAX_READ_AHEAD_CHUNKS);
    for (int i = range[0]; i < range[1]; i++) {
      Placement p = run.get(i);
      SlabLocation l = p.location();
      // Chunks being fetched already need no second thread waiting for them.
      if (!presence.covers(l.slab(), l.offset(), l.length()) && !inflight.claimed(p.digest())) {
        next.add(new Placement(p.digest(), l, false));
      }
    }
    if (next.isEmpty()) {
      return;
    }
    readAheadChunks.add(next.size());
    Instant deadline = Instant.now().plus(fillTimeout);
    // One ensure per chunk: each is written (and its reader released) as soon as it arrives,
    // not when the slowest chunk of the window does. The source bounds the concurrency.
    for (Placement p : next) {
      Thread.ofVirtual()
          .name("read-ahead")
          .start(
              () -> {
                try {
                  ensureReadable(List.of(p), deadline);
                } catch (IOException | RuntimeException e) {
                  log.debug("read-ahead of {} failed: {}", p.digest().hex(), e.toString());
                }
              });
    }
  }
}
