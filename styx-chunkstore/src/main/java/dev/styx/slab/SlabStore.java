package dev.styx.slab;

import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.IntFunction;

/**
 * The slab files: sparse files of 1 TiB virtual size ({@code slab-<id>} in one directory) into
 * which verified chunks are written block-aligned. Each slab is opened once, read-write, and that
 * fd is kept for the daemon's life: lazy backends must write through an fd opened before they mark
 * the slab. Presence is not this class's business: callers {@link #sync} and then record it in the
 * {@link ChunkIndex}.
 */
public final class SlabStore implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SlabStore.class);

  /** Virtual size of a slab file. */
  public static final long SLAB_BYTES = SlabLocation.SLAB_BLOCKS << SlabLocation.BLOCK_SHIFT;

  private static final int MAX_CHUNK = 1 << 20;
  private static final byte[] ZEROS = new byte[SlabLocation.BLOCK_SIZE];

  private final Path dir;
  private final IntFunction<OptionalInt> restoredFd;
  private final boolean wantDirect;
  private final Map<Integer, Integer> fds = new TreeMap<>();
  private final Set<Integer> direct = new HashSet<>();
  private final ConcurrentLinkedQueue<ByteBuffer> buffers = new ConcurrentLinkedQueue<>();
  private boolean closed;

  private SlabStore(Path dir, IntFunction<OptionalInt> restoredFd, boolean wantDirect) {
    this.dir = dir;
    this.restoredFd = restoredFd;
    this.wantDirect = wantDirect;
  }

  /** Opens (creating if needed, mode 0700) the slab directory and every slab file already in it. */
  public static SlabStore open(Path dir) throws IOException {
    return open(dir, id -> OptionalInt.empty());
  }

  /**
   * Like {@link #open(Path)}, but a slab's fd is first asked of {@code restoredFd} (a lazy
   * backend's fd store after a restart): a marked slab must keep the write fd opened before its
   * mark, as a fresh open would deadlock on its own pre-content events.
   */
  public static SlabStore open(Path dir, IntFunction<OptionalInt> restoredFd) throws IOException {
    return open(dir, restoredFd, false);
  }

  /**
   * Like {@link #open(Path, IntFunction)}; with {@code directIo} each slab fd writes and reads with
   * O_DIRECT where the file system allows it (see {@link #isDirect}). Chunks are block-aligned and
   * zero-padded in the slab, so every write and read is whole aligned blocks from an aligned
   * buffer; a file system that refuses O_DIRECT (EINVAL) keeps that slab buffered.
   */
  public static SlabStore open(Path dir, IntFunction<OptionalInt> restoredFd, boolean directIo)
      throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    SlabStore s = new SlabStore(dir, restoredFd, directIo);
    try (var list = Files.list(dir)) {
      for (Path p : list.toList()) {
        String n = p.getFileName().toString();
        if (n.matches("slab-[0-9]{1,5}")) {
          s.slab(Integer.parseInt(n.substring(5)));
        }
      }
    }
    return s;
  }

  /** The file of slab {@code id}. */
  public Path file(int id) {
    return dir.resolve("slab-" + id);
  }

  /** Opens slab {@code id} (creating the sparse file if needed) and returns its read-write fd. */
  public synchronized int slab(int id) throws IOException {
    if (closed) {
      throw new IOException("slab store closed");
    }
    if (id < 0 || id > 65535) {
      throw new IllegalArgumentException("slab id out of range: " + id);
    }
    Integer fd = fds.get(id);
    if (fd != null) {
      return fd;
    }
    OptionalInt kept = restoredFd.apply(id);
    if (kept.isPresent()) {
      fds.put(id, kept.getAsInt());
      makeDirect(id, kept.getAsInt()); // a restored fd keeps its flags; set them if it had not
      return kept.getAsInt();
    }
    int f = Syscalls.open(file(id), Syscalls.O_RDWR | Syscalls.O_CREAT | Syscalls.O_CLOEXEC, 0600);
    try {
      if (Files.size(file(id)) < SLAB_BYTES) {
        Syscalls.ftruncate(f, SLAB_BYTES);
      }
    } catch (IOException e) {
      Syscalls.close(f);
      throw e;
    }
    fds.put(id, f);
    makeDirect(id, f);
    return f;
  }

  private void makeDirect(int id, int fd) throws IOException {
    if (!wantDirect) {
      return;
    }
    try {
      Syscalls.addStatusFlag(fd, Syscalls.O_DIRECT);
      direct.add(id);
    } catch (SyscallException e) {
      if (e.errno() != Syscalls.EINVAL) { // this file system has no direct I/O
        throw e;
      }
      log.warn("slab {}: {} refuses O_DIRECT; it is written through the page cache", id, dir);
    }
  }

  /** Whether slab {@code id} (opened) is written and read with O_DIRECT. */
  public synchronized boolean isDirect(int id) {
    return direct.contains(id);
  }

  /** Ids of the slabs opened so far, ascending. */
  public synchronized List<Integer> slabIds() {
    return new ArrayList<>(fds.keySet());
  }

  /**
   * Writes a verified chunk at its location, zero-padding the last block. The chunk's length must
   * match the location's: a placement is for exactly one chunk.
   */
  public void write(SlabLocation loc, VerifiedChunk chunk) throws IOException {
    if (chunk.length() != loc.length()) {
      throw new IllegalArgumentException(
          "chunk " + chunk.digest() + " is " + chunk.length() + " bytes, placed for " + loc);
    }
    int fd = slab(loc.slab());
    int padded = (int) (loc.blocks() << SlabLocation.BLOCK_SHIFT);
    ByteBuffer buf = borrow();
    try {
      buf.clear();
      buf.put(chunk.data());
      buf.put(ZEROS, 0, padded - buf.position());
      buf.flip();
      Syscalls.pwriteFully(fd, buf, loc.offset());
    } finally {
      buffers.add(buf);
    }
  }

  /** Reads a chunk's bytes back (exactly {@code loc.length()} bytes). */
  public byte[] read(SlabLocation loc) throws IOException {
    int fd = slab(loc.slab());
    ByteBuffer buf = borrow();
    try {
      // Whole blocks (the tail is zero padding): O_DIRECT reads must be block-aligned.
      buf.clear().limit((int) (loc.blocks() << SlabLocation.BLOCK_SHIFT));
      while (buf.position() < loc.length()) {
        if (Syscalls.pread(fd, buf, loc.offset() + buf.position()) == 0) {
          throw new IOException("slab " + loc.slab() + " ends before " + loc);
        }
      }
      byte[] out = new byte[loc.length()];
      buf.flip().get(out);
      return out;
    } finally {
      buffers.add(buf);
    }
  }

  /** Makes everything written to these slabs durable (fdatasync). */
  public void sync(Collection<Integer> slabIds) throws IOException {
    for (int id : new java.util.TreeSet<>(slabIds)) {
      Syscalls.fdatasync(slab(id));
    }
  }

  /** Bytes allocated on disk by all slab files (holes excluded). */
  public synchronized long bytesOnDisk() throws IOException {
    long total = 0;
    for (int fd : fds.values()) {
      total += Syscalls.allocatedBytes(fd);
    }
    return total;
  }

  private ByteBuffer borrow() {
    ByteBuffer b = buffers.poll();
    return b != null ? b : Syscalls.alignedBuffer(MAX_CHUNK);
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    IOException first = null;
    for (int fd : fds.values()) {
      try {
        Syscalls.close(fd);
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    fds.clear();
    if (first != null) {
      throw first;
    }
  }
}
