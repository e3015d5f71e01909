package dev.styx.chunkstore;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import dev.styx.chunk.ChunkDigest;
import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The chunk store as a static file tree (ARCHITECTURE.md "Formats", chunk store layout), so that
 * nginx, an S3 bucket or {@code python3 -m http.server} can serve it as it is:
 *
 * <pre>
 * DIR/chunk/&lt;64 hex&gt;   one zstd frame holding the chunk whose SHA-256 is the name
 * DIR/manifest/&lt;key&gt;   one zstd frame holding a signed manifest envelope
 * DIR/.tmp/            writes in progress (never served: outside chunk/ and manifest/)
 * </pre>
 *
 * Every object appears whole or not at all: a chunk is written as an unnamed file in {@code chunk/}
 * and linked under its name when complete ({@code O_TMPFILE}; a crash leaves nothing behind), a
 * manifest (or a chunk on a file system without {@code O_TMPFILE}) is written to a temp file and
 * atomically renamed into place; temp files are removed once they are an hour old. Chunks are
 * content-addressed, so writes are idempotent and need no locking.
 *
 * <p>New chunk files stay in the page cache, where the client that asked for the ingest finds them
 * when it fetches them. {@code -Dstyx.chunkstore.dropBehind=true} writes each back at once and
 * drops it from the cache soon after ({@link DropBehind}), for hosts where ingest must not grow the
 * page cache. Manifests always stay cached.
 */
public final class ChunkStoreDir {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ChunkStoreDir.class);
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Age after which a temp file is considered left behind by a crash. */
  static final long STALE_TMP_MILLIS = 3600_000;

  /** Temp names: pid plus a random salt (stores may be shared across hosts), then a counter. */
  private static final String TMP_PREFIX =
      ProcessHandle.current().pid()
          + "-"
          + Long.toHexString(new java.security.SecureRandom().nextLong())
          + "-";

  private static final AtomicLong TMP_SEQ = new AtomicLong();

  private final Path root;
  private final Path chunkDir;
  private final Path manifestDir;
  private final Path tmpDir;
  private final int level;
  private final DropBehind dropBehind =
      Boolean.parseBoolean(System.getProperty("styx.chunkstore.dropBehind", "false"))
          ? new DropBehind()
          : null;

  /** Whether chunk files are created unnamed ({@code O_TMPFILE}); cleared if the FS refuses it. */
  private volatile boolean tmpFiles = true;

  /** Opens (creating if needed) a store; removes temp files left by a crash. */
  public ChunkStoreDir(Path root, int level) throws IOException {
    this.root = root;
    this.chunkDir = root.resolve("chunk");
    this.manifestDir = root.resolve("manifest");
    this.tmpDir = root.resolve(".tmp");
    this.level = level;
    Files.createDirectories(chunkDir);
    Files.createDirectories(manifestDir);
    Files.createDirectories(tmpDir);
    // Temp files older than an hour were left by a crash; younger ones may belong to another
    // writer sharing this store.
    long cutoff = System.currentTimeMillis() - STALE_TMP_MILLIS;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmpDir)) {
      for (Path p : ds) {
        try {
          if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
            Files.deleteIfExists(p);
          }
        } catch (NoSuchFileException gone) {
          // another writer renamed or removed it meanwhile
        }
      }
    }
  }

  public Path root() {
    return root;
  }

  public Path tmpDir() {
    return tmpDir;
  }

  public int level() {
    return level;
  }

  /** Checks a manifest key: a plain file name, no separators or dot-names. */
  public static String checkKey(String key) {
    if (!KEY.matcher(key).matches()) {
      throw new IllegalArgumentException("bad manifest key: " + key);
    }
    return key;
  }

  public Path chunkPath(ChunkDigest d) {
    return chunkDir.resolve(d.hex());
  }

  public Path manifestPath(String key) {
    return manifestDir.resolve(checkKey(key));
  }

  public boolean hasChunk(ChunkDigest d) {
    return Files.exists(chunkPath(d));
  }

  /** zstd-compresses {@code data[off, off+len)} at this store's level. */
  public byte[] compress(byte[] data, int off, int len) {
    try (ZstdCompressCtx c = new ZstdCompressCtx()) {
      c.setLevel(level);
      c.setContentSize(true);
      byte[] out = new byte[(int) Zstd.compressBound(len)];
      int n = c.compressByteArray(out, 0, out.length, data, off, len);
      return java.util.Arrays.copyOf(out, n);
    }
  }

  /**
   * Stores a chunk whose digest the caller computed from these bytes. Returns the compressed size
   * if the chunk was new, or -1 if it was already present (then nothing is written).
   */
  public long putChunk(ChunkDigest d, byte[] data, int off, int len) throws IOException {
    Path dest = chunkPath(d);
    if (Files.exists(dest)) {
      return -1;
    }
    byte[] z = compress(data, off, len);
    writeChunk(dest, z, 0, z.length);
    return z.length;
  }

  /**
   * Stores {@code frame[off, off+len)}, an already-compressed chunk object, as is (the caller
   * vouches for its content). The caller has checked {@link #hasChunk} before compressing, so this
   * does not look again: a copy another writer stored meanwhile is kept (the link finds it) or, on
   * a file system without unnamed files, replaced by the same bytes.
   */
  public void putCompressedChunk(ChunkDigest d, byte[] frame, int off, int len) throws IOException {
    writeChunk(chunkPath(d), frame, off, len);
  }

  /** The stored (compressed) object of a chunk, if present. */
  public Optional<byte[]> readCompressedChunk(ChunkDigest d) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(chunkPath(d)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** A chunk's bytes, decompressed and checked against its digest; empty if absent. */
  public Optional<byte[]> readChunk(ChunkDigest d) throws IOException {
    Optional<byte[]> z = readCompressedChunk(d);
    if (z.isEmpty()) {
      return Optional.empty();
    }
    byte[] data = decompressChunk(d, z.get());
    return Optional.of(data);
  }

  /** Decompresses a stored chunk object and verifies it against its name. */
  public static byte[] decompressChunk(ChunkDigest d, byte[] z) throws IOException {
    byte[] data;
    try {
      long size = Zstd.getFrameContentSize(z);
      if (size < 0 || size > (64 << 20)) {
        throw new IOException("chunk object " + d + " has no usable content size (" + size + ")");
      }
      try (ZstdDecompressCtx dc = new ZstdDecompressCtx()) {
        data = dc.decompress(z, (int) size);
      }
    } catch (ZstdException e) {
      throw new IOException(
          "chunk object " + d + " is not a valid zstd frame: " + e.getMessage(), e);
    }
    if (!ChunkDigest.of(data).equals(d)) {
      throw new IOException("chunk digest mismatch for " + d);
    }
    return data;
  }

  /** Stores a manifest object (already compressed) under {@code key}, replacing any old one. */
  public void putManifest(String key, byte[] object) throws IOException {
    writeAtomically(manifestPath(key), object, 0, object.length, false);
  }

  /** The stored manifest object under {@code key}, if present. */
  public Optional<byte[]> readManifest(String key) throws IOException {
    try {
      return Optional.of(Files.readAllBytes(manifestPath(key)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /**
   * Writes a chunk object: as an unnamed file in {@code chunk/} ({@code O_TMPFILE}) that is linked
   * under its name once complete, so no temp file exists even after a crash and a chunk costs no
   * rename; on a file system without {@code O_TMPFILE}, through a temp file and a rename.
   */
  private void writeChunk(Path dest, byte[] bytes, int off, int len) throws IOException {
    if (!tmpFiles || !writeUnnamed(dest, bytes, off, len)) {
      writeAtomically(dest, bytes, off, len, dropBehind != null);
    }
    if (dropBehind != null) {
      dropBehind.written(dest);
    }
  }

  /**
   * The {@code O_TMPFILE} + {@code linkat} write of a chunk; false (nothing written) where this
   * store cannot make or link unnamed files, which then turns them off for good.
   */
  private boolean writeUnnamed(Path dest, byte[] bytes, int off, int len) throws IOException {
    int fd;
    try {
      fd =
          Syscalls.open(
              chunkDir, Syscalls.O_TMPFILE | Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0644);
    } catch (SyscallException e) {
      int errno = e.errno();
      if (errno != Syscalls.EOPNOTSUPP && errno != Syscalls.EISDIR && errno != Syscalls.EINVAL) {
        throw e;
      }
      noTmpFiles(e); // this file system (or kernel) has no O_TMPFILE
      return false;
    }
    try {
      Syscalls.writeFully(fd, bytes, off, len);
      if (dropBehind != null) {
        DropBehind.startWriteback(fd);
      }
      try {
        Syscalls.linkTmpFile(fd, dest);
      } catch (SyscallException e) {
        if (e.errno() == Syscalls.ENOENT && Files.isDirectory(chunkDir)) {
          noTmpFiles(e); // no AT_EMPTY_PATH (CAP_DAC_READ_SEARCH) and no /proc/self/fd
          return false;
        }
        if (e.errno() != Syscalls.EEXIST) {
          throw e;
        } // EEXIST: another writer stored the same content-addressed chunk first
      }
      return true;
    } finally {
      Syscalls.close(fd); // an unnamed file that was not linked is freed here
    }
  }

  /**
   * For tests: writes chunks as a file system without {@code O_TMPFILE} makes it (none of the file
   * systems this machine can mount lacks it).
   */
  void useTempFilesForChunks() {
    tmpFiles = false;
  }

  private void noTmpFiles(SyscallException why) {
    if (tmpFiles) {
      tmpFiles = false;
      log.info("chunk store {}: unnamed chunk files unavailable ({}); using temp files", root, why);
    }
  }

  /**
   * Writes {@code bytes[off, off+len)} to a new temp file and renames it over {@code dest}; with
   * {@code startWriteback} (a chunk under drop-behind) its writeback starts before the rename.
   */
  private void writeAtomically(Path dest, byte[] bytes, int off, int len, boolean startWriteback)
      throws IOException {
    // Unique per process and write; O_EXCL refuses to reuse a name left by someone else.
    Path tmp = tmpDir.resolve(TMP_PREFIX + TMP_SEQ.incrementAndGet() + ".tmp");
    boolean moved = false;
    try {
      int fd =
          Syscalls.open(
              tmp,
              Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_EXCL | Syscalls.O_CLOEXEC,
              0644);
      try {
        Syscalls.writeFully(fd, bytes, off, len);
        if (startWriteback) {
          DropBehind.startWriteback(fd);
        }
      } finally {
        Syscalls.close(fd);
      }
      try {
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        moved = true;
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("store " + root + " needs atomic rename within one file system", e);
      }
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
  }
}
