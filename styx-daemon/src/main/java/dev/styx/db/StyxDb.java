package dev.styx.db;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.ChunkIndex;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.lmdbjava.ByteArrayProxy;
import org.lmdbjava.Cursor;
import org.lmdbjava.CursorIterable;
import org.lmdbjava.CursorIterable.KeyVal;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.GetOp;
import org.lmdbjava.LmdbException;
import org.lmdbjava.Txn;

/**
 * The daemon's metadata in LMDB ({@code <cache>/db/}). Databases:
 *
 * <ul>
 *   <li>{@code params}: string key -&gt; JSON ({@code "init"}: {@link DaemonParams})
 *   <li>{@code images}: {@code <hash>-<name>} -&gt; JSON {@link ImageRecord}
 *   <li>{@code manifests}: {@code <hash>-<name>} -&gt; the signed manifest bytes as received
 *   <li>{@code chunks}: 32-byte digest -&gt; {@code slab u32, block u64, length u32, present u8}
 *   <li>{@code locs}: {@code slab u32, block u64} (big-endian) -&gt; digest, the reverse map
 *   <li>{@code slabs}: {@code slab u32} -&gt; next free block (u64)
 * </ul>
 *
 * Each method is one transaction (LMDB commits are durable), so chunk placements, their reverse
 * entries and the slab's allocation pointer always change together. Writes are serialized by a Java
 * lock so the LMDB writer mutex is never contended from (virtual) threads.
 */
public final class StyxDb implements ChunkIndex, AutoCloseable {
  private static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  private static final String INIT = "init";

  private final Env<byte[]> env;
  private final Dbi<byte[]> params;
  private final Dbi<byte[]> images;
  private final Dbi<byte[]> manifests;
  private final Dbi<byte[]> chunks;
  private final Dbi<byte[]> locs;
  private final Dbi<byte[]> slabs;

  /**
   * Runs every write transaction, one at a time. LMDB's writer lock is a mutex owned by the OS
   * thread that began the transaction; a virtual thread may continue on another carrier after it
   * blocks (on JDK 24+ also on a contended monitor, e.g. inside Jackson), and a commit from the
   * wrong OS thread would leave that mutex held and every later write hung. One platform thread
   * owns all write transactions instead.
   */
  private final ExecutorService writer =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("styx-db-write").daemon(true).factory());

  private volatile Thread writerThread;

  private StyxDb(Env<byte[]> env) {
    this.env = env;
    this.params = env.openDbi("params", DbiFlags.MDB_CREATE);
    this.images = env.openDbi("images", DbiFlags.MDB_CREATE);
    this.manifests = env.openDbi("manifests", DbiFlags.MDB_CREATE);
    this.chunks = env.openDbi("chunks", DbiFlags.MDB_CREATE);
    this.locs = env.openDbi("locs", DbiFlags.MDB_CREATE);
    this.slabs = env.openDbi("slabs", DbiFlags.MDB_CREATE);
  }

  /** Opens (creating, mode 0700) the database directory. */
  public static StyxDb open(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    try {
      Env<byte[]> env =
          Env.create(ByteArrayProxy.PROXY_BA)
              .setMapSize(16L << 30) // address space only; the file grows as needed
              .setMaxDbs(8)
              .setMaxReaders(512)
              // NOTLS: read transactions are not tied to OS threads (virtual threads migrate).
              .open(dir.toFile(), EnvFlags.MDB_NOTLS);
      return new StyxDb(env);
    } catch (LmdbException e) {
      throw new IOException("cannot open database in " + dir + ": " + e.getMessage(), e);
    }
  }

  // ---- params

  public Optional<DaemonParams> params() throws IOException {
    return read(txn -> Optional.ofNullable(params.get(txn, utf8(INIT))))
        .map(b -> fromJson(b, DaemonParams.class));
  }

  public void putParams(DaemonParams p) throws IOException {
    byte[] v = toJson(p);
    write(
        txn -> {
          params.put(txn, utf8(INIT), v);
          return null;
        });
  }

  // ---- images

  public Optional<ImageRecord> image(String storePath) throws IOException {
    return read(txn -> Optional.ofNullable(images.get(txn, utf8(storePath))))
        .map(b -> fromJson(b, ImageRecord.class));
  }

  public List<ImageRecord> images() throws IOException {
    return read(
        txn -> {
          List<ImageRecord> out = new ArrayList<>();
          try (CursorIterable<byte[]> it = images.iterate(txn)) {
            for (KeyVal<byte[]> kv : it) {
              out.add(fromJson(kv.val(), ImageRecord.class));
            }
          }
          return out;
        });
  }

  /**
   * Atomically replaces the record of {@code storePath} with {@code change(current)} (current may
   * be null); returns the new record. {@code change} may throw to abort with nothing written.
   */
  public ImageRecord updateImage(String storePath, Function<ImageRecord, ImageRecord> change)
      throws IOException {
    return write(
        txn -> {
          byte[] cur = images.get(txn, utf8(storePath));
          ImageRecord next = change.apply(cur == null ? null : fromJson(cur, ImageRecord.class));
          if (!next.storePath().equals(storePath)) {
            throw new IllegalArgumentException(
                "record for " + next.storePath() + " under " + storePath);
          }
          images.put(txn, utf8(storePath), toJson(next));
          return next;
        });
  }

  // ---- manifests

  public void putManifest(String storePath, byte[] signed) throws IOException {
    write(
        txn -> {
          manifests.put(txn, utf8(storePath), signed);
          return null;
        });
  }

  public Optional<byte[]> manifest(String storePath) throws IOException {
    return read(txn -> Optional.ofNullable(manifests.get(txn, utf8(storePath))));
  }

  // ---- chunk index

  @Override
  public List<Placement> place(List<ChunkRef> refs) throws IOException {
    // Usually every chunk is known already: answer from a read transaction, no commit (fsync).
    List<Placement> known =
        read(
            txn -> {
              List<Placement> out = new ArrayList<>(refs.size());
              for (ChunkRef r : refs) {
                byte[] v = chunks.get(txn, r.digest().bytes());
                if (v == null) {
                  return null;
                }
                Placement p = decodeChunk(r.digest(), v);
                if (p.location().length() != r.length()) {
                  return null; // let the write path report the conflict
                }
                out.add(p);
              }
              return out;
            });
    if (known != null) {
      return known;
    }
    return write(
        txn -> {
          List<Placement> out = new ArrayList<>(refs.size());
          Map<ChunkDigest, Placement> seen = new HashMap<>();
          int slab = currentSlab(txn);
          long next = nextBlock(txn, slab);
          boolean moved = false;
          for (ChunkRef r : refs) {
            Placement p = seen.get(r.digest());
            if (p == null) {
              byte[] v = chunks.get(txn, r.digest().bytes());
              if (v != null) {
                p = decodeChunk(r.digest(), v);
                if (p.location().length() != r.length()) {
                  throw new IllegalStateException(
                      "chunk "
                          + r.digest()
                          + " known as "
                          + p.location().length()
                          + " bytes, now claimed to be "
                          + r.length());
                }
              } else {
                long blocks = SlabLocation.blocksFor(r.length());
                if (next + blocks > SlabLocation.SLAB_BLOCKS) {
                  slabs.put(txn, slabKey(slab), longBytes(next));
                  slab++;
                  next = 0;
                }
                SlabLocation loc = new SlabLocation(slab, next, r.length());
                next += blocks;
                moved = true;
                p = new Placement(r.digest(), loc, false);
                chunks.put(txn, r.digest().bytes(), encodeChunk(loc, false));
                locs.put(txn, locKey(slab, loc.block()), r.digest().bytes());
              }
              seen.put(r.digest(), p);
            }
            out.add(p);
          }
          if (moved) {
            slabs.put(txn, slabKey(slab), longBytes(next));
          }
          return out;
        });
  }

  @Override
  public Optional<Placement> lookup(ChunkDigest digest) throws IOException {
    return read(
        txn -> {
          byte[] v = chunks.get(txn, digest.bytes());
          return v == null ? Optional.empty() : Optional.of(decodeChunk(digest, v));
        });
  }

  /** Placements of many digests in one read transaction (absent ones are skipped). */
  public Map<ChunkDigest, Placement> lookupAll(Collection<ChunkDigest> digests) throws IOException {
    return read(
        txn -> {
          Map<ChunkDigest, Placement> out = new HashMap<>();
          for (ChunkDigest d : digests) {
            byte[] v = chunks.get(txn, d.bytes());
            if (v != null) {
              out.put(d, decodeChunk(d, v));
            }
          }
          return out;
        });
  }

  @Override
  public Optional<Placement> at(int slab, long offset) throws IOException {
    long block = offset >>> SlabLocation.BLOCK_SHIFT;
    return read(
        txn -> {
          try (Cursor<byte[]> c = locs.openCursor(txn)) {
            byte[] key = locKey(slab, block);
            boolean found = c.get(key, GetOp.MDB_SET_RANGE);
            if (!found) {
              if (!c.last()) {
                return Optional.empty();
              }
            } else if (!Arrays.equals(c.key(), key) && !c.prev()) {
              return Optional.empty();
            }
            ByteBuffer k = ByteBuffer.wrap(c.key());
            if (k.getInt() != slab) {
              return Optional.empty();
            }
            ChunkDigest d = new ChunkDigest(c.val());
            byte[] v = chunks.get(txn, c.val());
            if (v == null) {
              return Optional.empty();
            }
            Placement p = decodeChunk(d, v);
            return p.location().covers(offset) ? Optional.of(p) : Optional.empty();
          }
        });
  }

  @Override
  public void markPresent(Collection<ChunkDigest> digests) throws IOException {
    if (digests.isEmpty()) {
      return;
    }
    write(
        txn -> {
          for (ChunkDigest d : digests) {
            byte[] v = chunks.get(txn, d.bytes());
            if (v == null) {
              throw new IllegalStateException("chunk " + d + " stored but never placed");
            }
            if (v[16] == 0) {
              byte[] nv = v.clone();
              nv[16] = 1;
              chunks.put(txn, d.bytes(), nv);
            }
          }
          return null;
        });
  }

  /** Calls {@code sink} for every chunk recorded present (one read transaction). */
  public void forEachPresent(java.util.function.Consumer<Placement> sink) throws IOException {
    read(
        txn -> {
          try (CursorIterable<byte[]> it = chunks.iterate(txn)) {
            for (KeyVal<byte[]> kv : it) {
              if (kv.val()[16] != 0) {
                sink.accept(decodeChunk(new ChunkDigest(kv.key()), kv.val()));
              }
            }
          }
          return null;
        });
  }

  /** Slab ids with their next free block, ascending. */
  public Map<Integer, Long> slabUsage() throws IOException {
    return read(
        txn -> {
          Map<Integer, Long> out = new java.util.TreeMap<>();
          try (CursorIterable<byte[]> it = slabs.iterate(txn)) {
            for (KeyVal<byte[]> kv : it) {
              out.put(ByteBuffer.wrap(kv.key()).getInt(), ByteBuffer.wrap(kv.val()).getLong());
            }
          }
          return out;
        });
  }

  /** Totals over the chunk index: chunks placed, present, and bytes of each. */
  public record ChunkTotals(long placed, long present, long placedBytes, long presentBytes) {}

  public ChunkTotals chunkTotals() throws IOException {
    return read(
        txn -> {
          long placed = 0;
          long present = 0;
          long pb = 0;
          long prb = 0;
          try (CursorIterable<byte[]> it = chunks.iterate(txn)) {
            for (KeyVal<byte[]> kv : it) {
              ByteBuffer v = ByteBuffer.wrap(kv.val());
              int len = v.getInt(12);
              placed++;
              pb += len;
              if (kv.val()[16] != 0) {
                present++;
                prb += len;
              }
            }
          }
          return new ChunkTotals(placed, present, pb, prb);
        });
  }

  private int currentSlab(Txn<byte[]> txn) {
    try (Cursor<byte[]> c = slabs.openCursor(txn)) {
      return c.last() ? ByteBuffer.wrap(c.key()).getInt() : 0;
    }
  }

  private long nextBlock(Txn<byte[]> txn, int slab) {
    byte[] v = slabs.get(txn, slabKey(slab));
    return v == null ? 0 : ByteBuffer.wrap(v).getLong();
  }

  private static byte[] encodeChunk(SlabLocation loc, boolean present) {
    return ByteBuffer.allocate(17)
        .putInt(loc.slab())
        .putLong(loc.block())
        .putInt(loc.length())
        .put((byte) (present ? 1 : 0))
        .array();
  }

  private static Placement decodeChunk(ChunkDigest d, byte[] v) {
    ByteBuffer b = ByteBuffer.wrap(v);
    SlabLocation loc = new SlabLocation(b.getInt(), b.getLong(), b.getInt());
    return new Placement(d, loc, b.get() != 0);
  }

  private static byte[] locKey(int slab, long block) {
    return ByteBuffer.allocate(12).putInt(slab).putLong(block).array();
  }

  private static byte[] slabKey(int slab) {
    return ByteBuffer.allocate(4).putInt(slab).array();
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] toJson(Object o) {
    try {
      return JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static <T> T fromJson(byte[] b, Class<T> type) {
    try {
      return JSON.readValue(b, type);
    } catch (IOException e) {
      throw new UncheckedIOException("corrupt " + type.getSimpleName() + " record", e);
    }
  }

  private <T> T read(Function<Txn<byte[]>, T> body) throws IOException {
    try (Txn<byte[]> txn = env.txnRead()) {
      return body.apply(txn);
    } catch (LmdbException e) {
      throw new IOException("database read failed: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Runs {@code body} in a write transaction on the writer thread (package-private: tests). */
  <T> T write(Function<Txn<byte[]>, T> body) throws IOException {
    if (Thread.currentThread() == writerThread) {
      return writeHere(body); // a write from inside a write body: already on the owner thread
    }
    java.util.concurrent.Future<T> f;
    try {
      f = writer.submit(() -> writeHere(body));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw new IOException("database closed", e);
    }
    // Wait for the outcome even if interrupted: the transaction runs to its end either way, and
    // the caller must not believe a committed write failed.
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return f.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (java.util.concurrent.ExecutionException e) {
          Throwable c = e.getCause();
          if (c instanceof IOException io) {
            throw io;
          }
          if (c instanceof RuntimeException r) {
            throw r;
          }
          if (c instanceof Error err) {
            throw err;
          }
          throw new IOException("database write failed: " + c, c);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private <T> T writeHere(Function<Txn<byte[]>, T> body) throws IOException {
    writerThread = Thread.currentThread();
    try (Txn<byte[]> txn = env.txnWrite()) {
      T r = body.apply(txn);
      txn.commit();
      return r;
    } catch (LmdbException e) {
      throw new IOException("database write failed: " + e.getMessage(), e);
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  @Override
  public void close() {
    writer.shutdown();
    try {
      if (!writer.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new IllegalStateException("a database write did not finish within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    env.close();
  }
}
