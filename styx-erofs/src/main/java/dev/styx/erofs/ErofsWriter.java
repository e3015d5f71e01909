package dev.styx.erofs;

import static dev.styx.erofs.ErofsFormat.*;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Encodes an {@link ErofsImage} as EROFS image bytes (4 KiB blocks, uncompressed), written from
 * Linux {@code fs/erofs/erofs_fs.h} and the kernel's read paths.
 *
 * <p>Layout: {@code meta_blkaddr = 0}, so a nid is the inode's byte offset / 32. Block 0 holds the
 * superblock at 1024 and the device table right after it (slot offset 9, i.e. byte 1152); inodes
 * fill the rest of block 0 (including bytes 32..1023) and the following blocks, each followed by
 * its inline tail (FLAT_INLINE, never crossing a block, as {@code erofs_map_blocks_flat} requires)
 * or its 8-byte chunk indexes (CHUNK_BASED, may cross blocks). Whole blocks of large directories,
 * large inline files and long symlinks follow the metadata (FLAT_PLAIN blocks or FLAT_INLINE head
 * blocks). The superblock CRC32C covers bytes 1024..4095 and is written last.
 */
public final class ErofsWriter {
  /** Deepest directory nesting accepted (the reader enforces the same bound). */
  public static final int MAX_DEPTH = 4096;

  /** Most inodes one image may hold. */
  public static final int MAX_INODES = 1 << 24;

  /** Most extra devices: the table must stay in block 0 so the root nid stays small. */
  public static final int MAX_DEVICES = (BLOCK_SIZE - SUPER_OFFSET - SUPER_SIZE) / DEVT_SLOT_SIZE;

  private static final VarHandle I16 =
      MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I32 =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle I64 =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private static final byte[] DOT = {'.'};
  private static final byte[] DOTDOT = {'.', '.'};
  private static final int KIND_DIR = 0;
  private static final int KIND_REG = 1;
  private static final int KIND_LNK = 2;

  private ErofsWriter() {}

  /** The image as one byte array. */
  public static byte[] write(ErofsImage image) {
    return new Build(image).run();
  }

  /** Writes the image to {@code out} (not closed). */
  public static void write(ErofsImage image, OutputStream out) throws IOException {
    out.write(write(image));
  }

  /** Writes the image to {@code ch} (not closed). */
  public static void write(ErofsImage image, WritableByteChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(write(image));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** One inode being laid out. */
  private static final class Ino {
    final ErofsNode node;
    final int kind;
    final int parent;
    final byte[] name; // name in the parent, for error paths and dirents
    final int depth;
    boolean extended;
    int layout;
    long size;
    int tailLen; // inline tail bytes or chunk index bytes after the inode
    int recordLen; // 32-aligned bytes reserved at the nid
    boolean mustFitBlock;
    long dataBlocks;
    long dataBlk;
    long nid;
    int nlink = 1;
    // directories: dirents in on-disk order, including "." and ".."
    byte[][] deNames;
    int[] deTargets;
    int[] blockEnds; // exclusive dirent index where each dir block ends

    Ino(ErofsNode node, int kind, int parent, byte[] name, int depth) {
      this.node = node;
      this.kind = kind;
      this.parent = parent;
      this.name = name;
      this.depth = depth;
    }
  }

  private static final class Build {
    final ErofsImage image;
    final List<ErofsDevice> devices;
    final ArrayList<Ino> inos = new ArrayList<>();
    byte[] out;

    Build(ErofsImage image) {
      this.image = image;
      this.devices = image.devices();
    }

    byte[] run() {
      if (devices.size() > MAX_DEVICES) {
        throw new InvalidTreeException(
            "/", devices.size() + " devices; at most " + MAX_DEVICES + " are supported");
      }
      flatten();
      long metaEnd = place();
      long blocks = (metaEnd + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
      for (Ino i : inos) {
        if (i.dataBlocks > 0) {
          i.dataBlk = blocks;
          blocks += i.dataBlocks;
        }
      }
      if (blocks << BLOCK_SHIFT > Integer.MAX_VALUE - 16) {
        throw new InvalidTreeException("/", "image would exceed 2 GiB of metadata");
      }
      out = new byte[(int) (blocks << BLOCK_SHIFT)];
      writeSuper(blocks);
      for (Ino i : inos) {
        writeInode(i);
      }
      CRC32C crc = new CRC32C();
      crc.update(out, SUPER_OFFSET, BLOCK_SIZE - SUPER_OFFSET);
      // The kernel's crc32c(~0, ...) has no final inversion: the stored value is ~CRC-32C.
      I32.set(out, SUPER_OFFSET + SB_CHECKSUM, ~(int) crc.getValue());
      return out;
    }

    String path(int idx) {
      if (idx == 0) {
        return "/";
      }
      ArrayDeque<String> parts = new ArrayDeque<>();
      for (int i = idx; i != 0; i = inos.get(i).parent) {
        parts.push(new String(inos.get(i).name, StandardCharsets.UTF_8));
      }
      return "/" + String.join("/", parts);
    }

    String childPath(int parent, String name) {
      String p = path(parent);
      return (p.equals("/") ? "" : p) + "/" + name;
    }

    // ---- pass 1: inodes in order (each directory's children contiguous, then its subdirs) ----

    void flatten() {
      Ino root = new Ino(image.root(), KIND_DIR, 0, new byte[0], 0);
      inos.add(root);
      ArrayDeque<Integer> dirs = new ArrayDeque<>();
      dirs.push(0);
      while (!dirs.isEmpty()) {
        int di = dirs.pop();
        Ino dir = inos.get(di);
        List<ErofsNode.Entry> entries = ((ErofsNode.Directory) dir.node).entries();
        int n = entries.size();
        byte[][] names = new byte[n + 2][];
        int[] targets = new int[n + 2];
        // "." and ".." are merged into byte order as the kernel's binary search requires.
        int k = 0;
        boolean dot = false;
        boolean dotdot = false;
        int subdirs = 0;
        int firstSubdir = -1;
        byte[] prev = null;
        for (int e = 0; e < n; e++) {
          ErofsNode.Entry entry = entries.get(e);
          byte[] nm = checkName(di, entry.name());
          if (prev != null && Arrays.compareUnsigned(prev, nm) >= 0) {
            throw new InvalidTreeException(
                childPath(di, entry.name()), "duplicate name in directory");
          }
          prev = nm;
          if (!dot && Arrays.compareUnsigned(DOT, nm) < 0) {
            names[k] = DOT;
            targets[k++] = di;
            dot = true;
          }
          if (!dotdot && Arrays.compareUnsigned(DOTDOT, nm) < 0) {
            names[k] = DOTDOT;
            targets[k++] = dir.parent;
            dotdot = true;
          }
          int ci = inos.size();
          if (ci >= MAX_INODES) {
            throw new InvalidTreeException(path(di), "more than " + MAX_INODES + " inodes");
          }
          Ino child = newInode(entry.node(), di, nm, dir.depth + 1);
          inos.add(child);
          if (child.kind == KIND_DIR) {
            subdirs++;
            if (firstSubdir < 0) {
              firstSubdir = ci;
            }
          }
          names[k] = nm;
          targets[k++] = ci;
        }
        if (!dot) {
          names[k] = DOT;
          targets[k++] = di;
        }
        if (!dotdot) {
          names[k] = DOTDOT;
          targets[k++] = dir.parent;
        }
        dir.deNames = names;
        dir.deTargets = targets;
        dir.nlink = 2 + subdirs;
        sizeDirectory(dir);
        // Depth-first over subdirectories, in name order.
        for (int j = k - 1; j >= 0; j--) {
          int t = targets[j];
          if (t > di && inos.get(t).kind == KIND_DIR && inos.get(t).parent == di) {
            dirs.push(t);
          }
        }
      }
    }

    Ino newInode(ErofsNode node, int parent, byte[] name, int depth) {
      return switch (node) {
        case ErofsNode.Directory d -> {
          if (depth > MAX_DEPTH) {
            throw new InvalidTreeException(
                childPath(parent, new String(name, StandardCharsets.UTF_8)),
                "nested deeper than " + MAX_DEPTH + " directories");
          }
          yield new Ino(d, KIND_DIR, parent, name, depth);
        }
        case ErofsNode.InlineFile f -> {
          Ino i = new Ino(f, KIND_REG, parent, name, depth);
          sizeFlat(i, f.rawData().length, false);
          yield i;
        }
        case ErofsNode.Symlink s -> {
          Ino i = new Ino(s, KIND_LNK, parent, name, depth);
          byte[] t = s.rawTarget();
          String problem = null;
          if (t.length == 0) {
            problem = "empty symlink target";
          } else if (t.length > SYMLINK_MAX) {
            problem = "symlink target of " + t.length + " bytes (max " + SYMLINK_MAX + ")";
          } else {
            for (byte b : t) {
              if (b == 0) {
                problem = "symlink target contains NUL";
                break;
              }
            }
          }
          if (problem != null) {
            throw new InvalidTreeException(
                childPath(parent, new String(name, StandardCharsets.UTF_8)), problem);
          }
          sizeFlat(i, t.length, false);
          yield i;
        }
        case ErofsNode.ChunkedFile c -> {
          Ino i = new Ino(c, KIND_REG, parent, name, depth);
          sizeChunked(i, c);
          yield i;
        }
      };
    }

    byte[] checkName(int parent, String name) {
      String problem = null;
      int utf8 = 0;
      int len = name.length();
      for (int j = 0; j < len && problem == null; j++) {
        char c = name.charAt(j);
        if (c == '/') {
          problem = "name contains '/'";
        } else if (c == 0) {
          problem = "name contains NUL";
        } else if (c < 0x80) {
          utf8++;
        } else if (c < 0x800) {
          utf8 += 2;
        } else if (Character.isHighSurrogate(c)
            && j + 1 < len
            && Character.isLowSurrogate(name.charAt(j + 1))) {
          utf8 += 4;
          j++;
        } else if (Character.isSurrogate(c)) {
          problem = "name contains an unpaired UTF-16 surrogate";
        } else {
          utf8 += 3;
        }
      }
      if (problem == null) {
        if (len == 0) {
          problem = "empty name";
        } else if (name.equals(".") || name.equals("..")) {
          problem = "name '" + name + "' is reserved";
        } else if (utf8 > NAME_MAX) {
          problem = "name of " + utf8 + " bytes (max " + NAME_MAX + ")";
        }
      }
      if (problem != null) {
        throw new InvalidTreeException(childPath(parent, name.replace("\0", "\\0")), problem);
      }
      return name.getBytes(StandardCharsets.UTF_8);
    }

    /** Data of {@code size} bytes kept in the image: inline tail if it fits, blocks otherwise. */
    static void sizeFlat(Ino i, long size, boolean nulAfterTail) {
      i.size = size;
      i.extended = size > 0xFFFF_FFFFL || i.nlink > 0xFFFF;
      int isize = i.extended ? EXTENDED_SIZE : COMPACT_SIZE;
      int tail = (int) (size & (BLOCK_SIZE - 1));
      // Lookup compares the last name of a directory block up to a NUL or the block end
      // (erofs_dirnamecmp), so an inline directory tail needs a NUL after it.
      int extra = nulAfterTail ? 1 : 0;
      if (size == 0) {
        i.layout = LAYOUT_FLAT_PLAIN;
      } else if (tail != 0 && isize + tail + extra <= BLOCK_SIZE) {
        i.layout = LAYOUT_FLAT_INLINE;
        i.tailLen = tail;
        i.dataBlocks = size >>> BLOCK_SHIFT;
        i.mustFitBlock = true;
      } else {
        i.layout = LAYOUT_FLAT_PLAIN;
        i.dataBlocks = (size + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
      }
      i.mustFitBlock |= i.extended;
      i.recordLen = align32(isize + i.tailLen + (i.tailLen > 0 ? extra : 0));
    }

    void sizeDirectory(Ino dir) {
      byte[][] names = dir.deNames;
      int n = names.length;
      int[] ends = new int[Math.max(1, n)];
      int blocks = 0;
      int used = 0;
      for (int j = 0; j < n; j++) {
        int need = DIRENT_SIZE + names[j].length;
        if (used + need > BLOCK_SIZE) {
          ends[blocks++] = j;
          used = 0;
        }
        used += need;
      }
      ends[blocks++] = n;
      dir.blockEnds = Arrays.copyOf(ends, blocks);
      long size = (long) (blocks - 1) * BLOCK_SIZE + used;
      dir.size = size;
      sizeFlat(dir, size, true);
    }

    void sizeChunked(Ino i, ErofsNode.ChunkedFile c) {
      int shift = c.chunkShift();
      long size = c.size();
      if (shift < ErofsNode.ChunkedFile.MIN_CHUNK_SHIFT
          || shift > ErofsNode.ChunkedFile.MAX_CHUNK_SHIFT) {
        throw new InvalidTreeException(
            childPath(i.parent, nameOf(i)), "chunk shift " + shift + " outside 12..43");
      }
      if (size < 0) {
        throw new InvalidTreeException(childPath(i.parent, nameOf(i)), "negative size " + size);
      }
      List<ChunkLocation> chunks = c.chunks();
      long n = ErofsNode.ChunkedFile.chunkCount(size, shift);
      if (chunks.size() != n) {
        throw new InvalidTreeException(
            childPath(i.parent, nameOf(i)),
            size
                + " bytes in 2^"
                + shift
                + "-byte chunks need "
                + n
                + " chunk locations, got "
                + chunks.size());
      }
      long fullBlocks = 1L << (shift - BLOCK_SHIFT);
      for (int j = 0; j < n; j++) {
        ChunkLocation loc = chunks.get(j);
        int dev = loc.device();
        if (dev < 1 || dev > devices.size()) {
          throw new InvalidTreeException(
              childPath(i.parent, nameOf(i)),
              "chunk "
                  + j
                  + " on device "
                  + dev
                  + " but the device table has "
                  + devices.size()
                  + " entries (devices are 1.."
                  + devices.size()
                  + ")");
        }
        long blocks =
            j < n - 1
                ? fullBlocks
                : ((size - ((long) j << shift)) + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
        long end = loc.blockAddress() + blocks;
        if (loc.isHole() || end > devices.get(dev - 1).blocks()) {
          throw new InvalidTreeException(
              childPath(i.parent, nameOf(i)),
              "chunk "
                  + j
                  + " at block "
                  + loc.blockAddress()
                  + " (+"
                  + blocks
                  + ") lies outside device "
                  + dev
                  + " ("
                  + devices.get(dev - 1).blocks()
                  + " blocks)");
        }
      }
      i.size = size;
      i.extended = size > 0xFFFF_FFFFL;
      i.layout = LAYOUT_CHUNK_BASED;
      int isize = i.extended ? EXTENDED_SIZE : COMPACT_SIZE;
      if ((long) n * CHUNK_INDEX_SIZE > Integer.MAX_VALUE / 2) {
        throw new InvalidTreeException(childPath(i.parent, nameOf(i)), "too many chunks: " + n);
      }
      i.tailLen = (int) n * CHUNK_INDEX_SIZE;
      i.recordLen = align32(isize + i.tailLen);
      i.mustFitBlock = i.extended;
    }

    static String nameOf(Ino i) {
      return new String(i.name, StandardCharsets.UTF_8);
    }

    static int align32(int v) {
      return (v + SLOT_SIZE - 1) & -SLOT_SIZE;
    }

    // ---- pass 2: nids. First fit over a few holes, else at the end of the metadata. ----

    long place() {
      long[] holeStart = new long[32];
      long[] holeEnd = new long[32];
      int holes = 0;
      // nid 0 is never used: readdir reports a dirent's nid as d_ino, and d_ino 0 means "deleted"
      // to libc, which would hide the entry.
      holeStart[holes] = SLOT_SIZE;
      holeEnd[holes++] = SUPER_OFFSET;
      long cursor = align32(SUPER_OFFSET + SUPER_SIZE + devices.size() * DEVT_SLOT_SIZE);
      for (Ino i : inos) {
        int need = i.recordLen;
        long at = -1;
        for (int h = 0; h < holes; h++) {
          long s = holeStart[h];
          if (holeEnd[h] - s >= need
              && (!i.mustFitBlock || (s & (BLOCK_SIZE - 1)) + need <= BLOCK_SIZE)) {
            at = s;
            holeStart[h] = s + need;
            if (holeEnd[h] - holeStart[h] < SLOT_SIZE) {
              holes--;
              holeStart[h] = holeStart[holes];
              holeEnd[h] = holeEnd[holes];
            }
            break;
          }
        }
        if (at < 0) {
          long inBlock = cursor & (BLOCK_SIZE - 1);
          if (i.mustFitBlock && inBlock + need > BLOCK_SIZE) {
            long next = cursor - inBlock + BLOCK_SIZE;
            if (holes == holeStart.length) {
              holes--; // forget the oldest-placed hole in the last slot
            }
            holeStart[holes] = cursor;
            holeEnd[holes++] = next;
            cursor = next;
          }
          at = cursor;
          cursor += need;
        }
        i.nid = at >>> NID_SHIFT;
      }
      if (inos.get(0).nid > 0xFFFF) {
        throw new InvalidTreeException("/", "root inode does not fit a 16-bit nid");
      }
      return cursor;
    }

    // ---- pass 3: bytes ----

    void writeSuper(long blocks) {
      int sb = SUPER_OFFSET;
      I32.set(out, sb + SB_MAGIC, MAGIC);
      I32.set(out, sb + SB_FEATURE_COMPAT, COMPAT_SB_CHKSUM);
      out[sb + SB_BLKSZBITS] = BLOCK_SHIFT;
      I16.set(out, sb + SB_ROOT_NID, (short) inos.get(0).nid);
      I64.set(out, sb + SB_INOS, (long) inos.size());
      // Nix store mtime: every compact inode takes its time from here (i_mtime 0 on top).
      I64.set(out, sb + SB_EPOCH, 1L);
      I32.set(out, sb + SB_BLOCKS, (int) blocks);
      UUID u = image.uuid();
      ByteBuffer.wrap(out, sb + SB_UUID, 16)
          .putLong(u.getMostSignificantBits())
          .putLong(u.getLeastSignificantBits());
      byte[] vol = image.volumeName().getBytes(StandardCharsets.UTF_8);
      System.arraycopy(vol, 0, out, sb + SB_VOLUME_NAME, vol.length);
      int incompat = 0;
      for (Ino i : inos) {
        if (i.layout == LAYOUT_CHUNK_BASED) {
          incompat |= INCOMPAT_CHUNKED_FILE;
          break;
        }
      }
      if (!devices.isEmpty()) {
        incompat |= INCOMPAT_DEVICE_TABLE | INCOMPAT_CHUNKED_FILE;
      }
      I32.set(out, sb + SB_FEATURE_INCOMPAT, incompat);
      I16.set(out, sb + SB_EXTRA_DEVICES, (short) devices.size());
      int slotoff = (SUPER_OFFSET + SUPER_SIZE) / DEVT_SLOT_SIZE;
      I16.set(out, sb + SB_DEVT_SLOTOFF, (short) slotoff);
      for (int d = 0; d < devices.size(); d++) {
        int at = slotoff * DEVT_SLOT_SIZE + d * DEVT_SLOT_SIZE;
        byte[] tag = devices.get(d).tag().getBytes(StandardCharsets.UTF_8);
        System.arraycopy(tag, 0, out, at + DEV_TAG, tag.length);
        I32.set(out, at + DEV_BLOCKS, (int) devices.get(d).blocks());
      }
    }

    void writeInode(Ino i) {
      int off = (int) (i.nid << NID_SHIFT);
      int mode =
          switch (i.kind) {
            case KIND_DIR -> S_IFDIR | 0555;
            case KIND_LNK -> S_IFLNK | 0777;
            default -> S_IFREG | (isExecutable(i.node) ? 0555 : 0444);
          };
      int iu =
          i.layout == LAYOUT_CHUNK_BASED
              ? CHUNK_FORMAT_INDEXES | (((ErofsNode.ChunkedFile) i.node).chunkShift() - BLOCK_SHIFT)
              : (i.dataBlocks > 0 ? (int) i.dataBlk : 0);
      int ino = inoNumber(i);
      I16.set(out, off + I_FORMAT, (short) ((i.extended ? 1 : 0) | (i.layout << 1)));
      I16.set(out, off + I_MODE, (short) mode);
      int isize;
      if (i.extended) {
        isize = EXTENDED_SIZE;
        I64.set(out, off + IE_SIZE, i.size);
        I32.set(out, off + IE_U, iu);
        I32.set(out, off + IE_INO, ino);
        I64.set(out, off + IE_MTIME, 1L);
        I32.set(out, off + IE_NLINK, i.nlink);
      } else {
        isize = COMPACT_SIZE;
        I16.set(out, off + IC_NLINK, (short) i.nlink);
        I32.set(out, off + IC_SIZE, (int) i.size);
        I32.set(out, off + IC_U, iu);
        I32.set(out, off + IC_INO, ino);
      }
      int tailAt = off + isize;
      switch (i.node) {
        case ErofsNode.InlineFile f -> writeFlat(i, f.rawData(), tailAt);
        case ErofsNode.Symlink s -> writeFlat(i, s.rawTarget(), tailAt);
        case ErofsNode.ChunkedFile c -> {
          List<ChunkLocation> chunks = c.chunks();
          for (int j = 0, n = chunks.size(); j < n; j++) {
            ChunkLocation loc = chunks.get(j);
            int at = tailAt + j * CHUNK_INDEX_SIZE;
            I16.set(out, at + 2, (short) loc.device());
            I32.set(out, at + 4, (int) loc.blockAddress());
          }
        }
        case ErofsNode.Directory d -> writeDirectory(i, tailAt);
      }
    }

    int inoNumber(Ino i) {
      return (int) (i.nid + 1);
    }

    static boolean isExecutable(ErofsNode n) {
      return switch (n) {
        case ErofsNode.InlineFile f -> f.executable();
        case ErofsNode.ChunkedFile c -> c.executable();
        default -> false;
      };
    }

    void writeFlat(Ino i, byte[] data, int tailAt) {
      int head = data.length - i.tailLen;
      if (head > 0) {
        System.arraycopy(data, 0, out, (int) (i.dataBlk << BLOCK_SHIFT), head);
      }
      if (i.tailLen > 0) {
        System.arraycopy(data, head, out, tailAt, i.tailLen);
      }
    }

    void writeDirectory(Ino dir, int tailAt) {
      byte[][] names = dir.deNames;
      int[] targets = dir.deTargets;
      int[] ends = dir.blockEnds;
      int start = 0;
      for (int b = 0; b < ends.length; b++) {
        int base;
        if (dir.layout == LAYOUT_FLAT_INLINE && b == ends.length - 1) {
          base = tailAt;
        } else {
          base = (int) ((dir.dataBlk + b) << BLOCK_SHIFT);
        }
        int k = ends[b] - start;
        int nameAt = k * DIRENT_SIZE;
        for (int j = 0; j < k; j++) {
          int e = start + j;
          Ino t = inos.get(targets[e]);
          int de = base + j * DIRENT_SIZE;
          I64.set(out, de + DE_NID, t.nid);
          I16.set(out, de + DE_NAMEOFF, (short) nameAt);
          out[de + DE_FILE_TYPE] =
              (byte)
                  switch (t.kind) {
                    case KIND_DIR -> FT_DIR;
                    case KIND_LNK -> FT_SYMLINK;
                    default -> FT_REG_FILE;
                  };
          System.arraycopy(names[e], 0, out, base + nameAt, names[e].length);
          nameAt += names[e].length;
        }
        start = ends[b];
      }
    }
  }
}
