package dev.styx.erofs.slab;

import dev.styx.erofs.ChunkLocation;
import dev.styx.erofs.ErofsDevice;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A slab as a plain file for the CLI and tests: chunks are appended block-aligned (each padded to
 * whole 4 KiB blocks) and deduplicated by SHA-256, with the digest index persisted beside the slab
 * as {@code <slab>.index} (written to a temp file and renamed on {@link #close()}, after the slab
 * data is forced to disk). Reopening a slab continues it, so a second tree adds only new chunks.
 */
public final class SlabFileWriter implements Closeable {
  /** Block size of slabs and EROFS images. */
  public static final int BLOCK_SIZE = 4096;

  /** Size advertised in the image's device table: a sparse 1 TiB slab. */
  public static final long DEVICE_BLOCKS = 1L << 28;

  private static final long MAGIC = 0x5354595853494458L; // "STYXSIDX"
  private static final int VERSION = 1;

  private final Path slab;
  private final Path index;
  private final FileChannel ch;
  private final UUID id;
  private final Map<ByteBuffer, Long> byDigest;
  private final MessageDigest sha256;
  private long nextBlock;
  private long chunksAdded;
  private long chunksReused;
  private boolean closed;

  private SlabFileWriter(Path slab, FileChannel ch, UUID id, Map<ByteBuffer, Long> map, long next)
      throws IOException {
    this.slab = slab;
    this.index = indexPath(slab);
    this.ch = ch;
    this.id = id;
    this.byDigest = map;
    this.nextBlock = next;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IOException(e);
    }
  }

  /** The index file kept beside {@code slab}. */
  public static Path indexPath(Path slab) {
    return slab.resolveSibling(slab.getFileName() + ".index");
  }

  /** Opens (or creates) a slab and its index; chunks past the indexed end are discarded. */
  public static SlabFileWriter open(Path slab) throws IOException {
    Path idx = indexPath(slab);
    UUID id;
    long next;
    Map<ByteBuffer, Long> map = new HashMap<>();
    if (Files.exists(idx)) {
      try (InputStream in = Files.newInputStream(idx);
          DataInputStream d = new DataInputStream(new java.io.BufferedInputStream(in))) {
        if (d.readLong() != MAGIC || d.readInt() != VERSION) {
          throw new IOException(idx + ": not a slab index");
        }
        id = new UUID(d.readLong(), d.readLong());
        next = d.readLong();
        long n = d.readLong();
        if (next < 0 || n < 0 || n > next) {
          throw new IOException(idx + ": corrupt slab index header");
        }
        for (long i = 0; i < n; i++) {
          byte[] dig = new byte[32];
          d.readFully(dig);
          long blk = d.readLong();
          if (blk < 0 || blk >= next) {
            throw new IOException(idx + ": chunk at block " + blk + " past the slab end " + next);
          }
          map.put(ByteBuffer.wrap(dig), blk);
        }
      } catch (EOFException e) {
        throw new IOException(idx + ": truncated slab index", e);
      }
      long have = Files.exists(slab) ? Files.size(slab) : 0;
      if (have < next * BLOCK_SIZE) {
        throw new IOException(
            slab + ": " + have + " bytes but its index expects " + next * BLOCK_SIZE);
      }
    } else {
      if (Files.exists(slab) && Files.size(slab) > 0) {
        throw new IOException(slab + " exists without its index " + idx);
      }
      id = UUID.randomUUID();
      next = 0;
    }
    FileChannel ch =
        FileChannel.open(
            slab, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    ch.truncate(next * BLOCK_SIZE);
    return new SlabFileWriter(slab, ch, id, map, next);
  }

  /** The device-table entry images use for this slab. */
  public ErofsDevice device() {
    return new ErofsDevice("styx-slab-" + id, DEVICE_BLOCKS);
  }

  /**
   * Stores {@code len} bytes of {@code buf} as one chunk (unless an identical chunk is already in
   * the slab) and returns its first block.
   */
  public long append(byte[] buf, int off, int len) throws IOException {
    ensureOpen();
    sha256.update(buf, off, len);
    ByteBuffer key = ByteBuffer.wrap(sha256.digest());
    Long have = byDigest.get(key);
    if (have != null) {
      chunksReused++;
      return have;
    }
    long blk = nextBlock;
    long blocks = (len + BLOCK_SIZE - 1L) / BLOCK_SIZE;
    if (blk + blocks > DEVICE_BLOCKS) {
      throw new IOException(slab + ": slab full (" + DEVICE_BLOCKS + " blocks)");
    }
    int padded = (int) (blocks * BLOCK_SIZE);
    ByteBuffer b = ByteBuffer.allocate(padded);
    b.put(buf, off, len).clear();
    long pos = blk * BLOCK_SIZE;
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
    nextBlock += blocks;
    byDigest.put(key, blk);
    chunksAdded++;
    return blk;
  }

  /** {@link #append} as a chunk location on {@code device}. */
  public ChunkLocation appendChunk(int device, byte[] buf, int off, int len) throws IOException {
    return new ChunkLocation(device, append(buf, off, len));
  }

  /** Blocks in use (the slab file is this many blocks long). */
  public long blocks() {
    return nextBlock;
  }

  /** Chunks written by this writer (new to the slab). */
  public long chunksAdded() {
    return chunksAdded;
  }

  /** Chunks this writer found already present and did not write again. */
  public long chunksReused() {
    return chunksReused;
  }

  public Path path() {
    return slab;
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException(slab + ": slab writer closed");
    }
  }

  /** Forces the slab data to disk, then atomically replaces the index. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try (ch) {
      ch.force(true);
      Path tmp = index.resolveSibling(index.getFileName() + ".tmp");
      try (OutputStream o =
              Files.newOutputStream(
                  tmp,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.TRUNCATE_EXISTING,
                  StandardOpenOption.WRITE);
          DataOutputStream d = new DataOutputStream(new java.io.BufferedOutputStream(o))) {
        d.writeLong(MAGIC);
        d.writeInt(VERSION);
        d.writeLong(id.getMostSignificantBits());
        d.writeLong(id.getLeastSignificantBits());
        d.writeLong(nextBlock);
        d.writeLong(byDigest.size());
        for (Map.Entry<ByteBuffer, Long> e : byDigest.entrySet()) {
          d.write(e.getKey().array());
          d.writeLong(e.getValue());
        }
      }
      try (FileChannel f = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        f.force(true);
      }
      Files.move(tmp, index, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
