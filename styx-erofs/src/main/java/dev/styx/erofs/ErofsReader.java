package dev.styx.erofs;

import static dev.styx.erofs.ErofsFormat.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Parses EROFS image bytes back into an {@link ErofsImage} (4 KiB blocks, uncompressed layouts:
 * FLAT_PLAIN, FLAT_INLINE, CHUNK_BASED). Built for hostile input: every offset and count is checked
 * against the image before use, directories are walked without recursion up to {@link
 * ErofsWriter#MAX_DEPTH} levels and each at most once, and the total work and memory are bounded by
 * a small multiple of the image size. Any problem is an {@link ErofsFormatException}.
 */
public final class ErofsReader {
  /** Largest image file {@link #read(Path)} accepts. */
  public static final long MAX_IMAGE_BYTES = Integer.MAX_VALUE - 16;

  private static final int KNOWN_INCOMPAT =
      0x1 /* ZERO_PADDING: only affects compressed data */
          | INCOMPAT_CHUNKED_FILE
          | INCOMPAT_DEVICE_TABLE;

  private final byte[] img;
  private final ByteBuffer le;
  private final long metaBase;
  private final int extraDevices;
  private final Map<Long, ErofsNode> files = new HashMap<>();
  private final Set<Long> dirsSeen = new HashSet<>();
  private long budget;

  private ErofsReader(byte[] img, long metaBase, int extraDevices) {
    this.img = img;
    this.le = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    this.metaBase = metaBase;
    this.extraDevices = extraDevices;
    // Every legitimate byte we materialize (names, dirents, file data, chunk indexes) occupies
    // its own bytes of the image, so more than this means shared or looping structures.
    this.budget = 2L * img.length + (1 << 16);
  }

  /** Reads the image file at {@code path}. */
  public static ErofsImage read(Path path) throws IOException {
    long size = Files.size(path);
    if (size > MAX_IMAGE_BYTES) {
      throw new ErofsFormatException(path + ": image of " + size + " bytes is too large");
    }
    try {
      return read(Files.readAllBytes(path));
    } catch (ErofsFormatException e) {
      throw new ErofsFormatException(path + ": " + e.getMessage());
    }
  }

  /** Parses {@code image}. */
  public static ErofsImage read(byte[] image) throws ErofsFormatException {
    try {
      return parse(image);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      // Defensive: a check we missed must still surface as a format error, not a crash.
      throw new ErofsFormatException("malformed image: " + e.getMessage());
    }
  }

  private static ErofsImage parse(byte[] image) throws ErofsFormatException {
    if (image.length < BLOCK_SIZE) {
      throw new ErofsFormatException(
          "image of " + image.length + " bytes is shorter than one block");
    }
    ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
    int sb = SUPER_OFFSET;
    if (b.getInt(sb + SB_MAGIC) != MAGIC) {
      throw new ErofsFormatException("bad superblock magic");
    }
    int blkszbits = image[sb + SB_BLKSZBITS] & 0xFF;
    if (blkszbits != BLOCK_SHIFT) {
      throw new ErofsFormatException("unsupported block size 2^" + blkszbits);
    }
    int compat = b.getInt(sb + SB_FEATURE_COMPAT);
    if ((compat & COMPAT_SB_CHKSUM) != 0) {
      byte[] copy = Arrays.copyOfRange(image, SUPER_OFFSET, BLOCK_SIZE);
      Arrays.fill(copy, SB_CHECKSUM, SB_CHECKSUM + 4, (byte) 0);
      CRC32C crc = new CRC32C();
      crc.update(copy);
      int want = b.getInt(sb + SB_CHECKSUM);
      if (want != ~(int) crc.getValue()) {
        throw new ErofsFormatException("superblock checksum mismatch");
      }
    }
    int incompat = b.getInt(sb + SB_FEATURE_INCOMPAT);
    if ((incompat & ~KNOWN_INCOMPAT) != 0) {
      throw new ErofsFormatException(
          "unsupported incompatible features 0x" + Integer.toHexString(incompat & ~KNOWN_INCOMPAT));
    }
    if (image[sb + SB_DIRBLKBITS] != 0) {
      throw new ErofsFormatException("unsupported dirblkbits " + image[sb + SB_DIRBLKBITS]);
    }
    int extra =
        (incompat & INCOMPAT_DEVICE_TABLE) != 0 ? b.getShort(sb + SB_EXTRA_DEVICES) & 0xFFFF : 0;
    List<ErofsDevice> devices = new ArrayList<>(Math.min(extra, 64));
    if (extra > 0) {
      long table = (long) (b.getShort(sb + SB_DEVT_SLOTOFF) & 0xFFFF) * DEVT_SLOT_SIZE;
      if (table < SUPER_OFFSET + SUPER_SIZE
          || table + (long) extra * DEVT_SLOT_SIZE > image.length) {
        throw new ErofsFormatException("device table of " + extra + " slots out of bounds");
      }
      for (int d = 0; d < extra; d++) {
        int at = (int) table + d * DEVT_SLOT_SIZE;
        int tagLen = 0;
        while (tagLen < ErofsDevice.MAX_TAG_BYTES && image[at + DEV_TAG + tagLen] != 0) {
          tagLen++;
        }
        String tag = decode(image, at + DEV_TAG, tagLen, "device tag");
        if (tag.getBytes(StandardCharsets.UTF_8).length > ErofsDevice.MAX_TAG_BYTES) {
          throw new ErofsFormatException("device tag too long");
        }
        devices.add(new ErofsDevice(tag, b.getInt(at + DEV_BLOCKS) & 0xFFFF_FFFFL));
      }
    }
    long meta = (b.getInt(sb + SB_META_BLKADDR) & 0xFFFF_FFFFL) << BLOCK_SHIFT;
    if (meta >= image.length) {
      throw new ErofsFormatException("meta_blkaddr beyond the image");
    }
    UUID uuid =
        new UUID(b.order(ByteOrder.BIG_ENDIAN).getLong(sb + SB_UUID), b.getLong(sb + SB_UUID + 8));
    b.order(ByteOrder.LITTLE_ENDIAN);
    int volLen = 0;
    while (volLen <= ErofsImage.MAX_VOLUME_NAME_BYTES && image[sb + SB_VOLUME_NAME + volLen] != 0) {
      volLen++;
    }
    if (volLen > ErofsImage.MAX_VOLUME_NAME_BYTES) {
      throw new ErofsFormatException("volume name without NUL terminator");
    }
    String volume = decode(image, sb + SB_VOLUME_NAME, volLen, "volume name");
    if (volume.getBytes(StandardCharsets.UTF_8).length > ErofsImage.MAX_VOLUME_NAME_BYTES) {
      throw new ErofsFormatException("volume name too long");
    }
    long rootNid = b.getShort(sb + SB_ROOT_NID) & 0xFFFF;
    ErofsReader r = new ErofsReader(image, meta, extra);
    ErofsNode.Directory root = r.walk(rootNid);
    return new ErofsImage(root, devices, uuid, volume);
  }

  private static String decode(byte[] a, int off, int len, String what)
      throws ErofsFormatException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(a, off, len))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ErofsFormatException(what + " is not valid UTF-8");
    }
  }

  private void spend(long n, String what) throws ErofsFormatException {
    budget -= n;
    if (budget < 0) {
      throw new ErofsFormatException(
          "image references more data than it holds (" + what + "): shared or looping metadata");
    }
  }

  // ---- inodes ----

  /** The fields of one on-disk inode the model needs. */
  private record Inode(
      long nid, int layout, int mode, long size, int iu, int dataStart, boolean extended) {
    int type() {
      return mode & S_IFMT;
    }
  }

  private Inode inode(long nid, String path) throws ErofsFormatException {
    if (nid < 0 || nid > (img.length - metaBase) >>> NID_SHIFT) {
      throw new ErofsFormatException(path + ": nid " + nid + " beyond the image");
    }
    long off = metaBase + (nid << NID_SHIFT);
    if (off + COMPACT_SIZE > img.length) {
      throw new ErofsFormatException(path + ": inode " + nid + " truncated");
    }
    int o = (int) off;
    int fmt = le.getShort(o + I_FORMAT) & 0xFFFF;
    if ((fmt & ~0xF) != 0) {
      throw new ErofsFormatException(path + ": unsupported i_format 0x" + Integer.toHexString(fmt));
    }
    boolean extended = (fmt & 1) != 0;
    int layout = (fmt >>> 1) & 7;
    if (layout != LAYOUT_FLAT_PLAIN
        && layout != LAYOUT_FLAT_INLINE
        && layout != LAYOUT_CHUNK_BASED) {
      throw new ErofsFormatException(path + ": unsupported data layout " + layout);
    }
    int isize = extended ? EXTENDED_SIZE : COMPACT_SIZE;
    if (off + isize > img.length) {
      throw new ErofsFormatException(path + ": inode " + nid + " truncated");
    }
    int icount = le.getShort(o + I_XATTR_ICOUNT) & 0xFFFF;
    int xattr = icount == 0 ? 0 : 12 + 4 * (icount - 1);
    int mode = le.getShort(o + I_MODE) & 0xFFFF;
    long size;
    int iu;
    if (extended) {
      size = le.getLong(o + IE_SIZE);
      iu = le.getInt(o + IE_U);
    } else {
      size = le.getInt(o + IC_SIZE) & 0xFFFF_FFFFL;
      iu = le.getInt(o + IC_U);
    }
    if (size < 0) {
      throw new ErofsFormatException(path + ": negative size");
    }
    long dataStart = off + isize + xattr;
    if (dataStart > img.length) {
      throw new ErofsFormatException(path + ": inline area beyond the image");
    }
    return new Inode(nid, layout, mode, size, iu, (int) dataStart, extended);
  }

  /** The bytes of a FLAT_PLAIN or FLAT_INLINE inode. */
  private byte[] flatData(Inode i, String path) throws ErofsFormatException {
    if (i.layout == LAYOUT_CHUNK_BASED) {
      throw new ErofsFormatException(path + ": chunk-based layout not allowed here");
    }
    long size = i.size;
    if (size > img.length) {
      throw new ErofsFormatException(path + ": size " + size + " exceeds the image");
    }
    spend(size, path);
    byte[] data = new byte[(int) size];
    if (size == 0) {
      return data;
    }
    long blk = i.iu & 0xFFFF_FFFFL;
    long head;
    if (i.layout == LAYOUT_FLAT_INLINE) {
      long nblocks = (size + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
      head = (nblocks - 1) << BLOCK_SHIFT;
      long tail = size - head;
      if ((i.dataStart & (BLOCK_SIZE - 1)) + tail > BLOCK_SIZE || i.dataStart + tail > img.length) {
        throw new ErofsFormatException(path + ": inline data crosses a block boundary");
      }
      System.arraycopy(img, i.dataStart, data, (int) head, (int) tail);
    } else {
      head = size;
    }
    if (head > 0) {
      long start = blk << BLOCK_SHIFT;
      if (start + head > img.length) {
        throw new ErofsFormatException(path + ": data blocks beyond the image");
      }
      System.arraycopy(img, (int) start, data, 0, (int) head);
    }
    return data;
  }

  private ErofsNode leaf(Inode i, String path) throws ErofsFormatException {
    ErofsNode cached = files.get(i.nid);
    if (cached != null) {
      return cached;
    }
    boolean exec = (i.mode & 0100) != 0;
    ErofsNode n;
    if (i.type() == S_IFLNK) {
      if (i.size == 0 || i.size > SYMLINK_MAX) {
        throw new ErofsFormatException(path + ": symlink target of " + i.size + " bytes");
      }
      byte[] t = flatData(i, path);
      for (byte c : t) {
        if (c == 0) {
          throw new ErofsFormatException(path + ": symlink target contains NUL");
        }
      }
      n = new ErofsNode.Symlink(t);
    } else if (i.type() == S_IFREG) {
      n =
          i.layout == LAYOUT_CHUNK_BASED
              ? chunked(i, exec, path)
              : new ErofsNode.InlineFile(flatData(i, path), exec);
    } else {
      throw new ErofsFormatException(
          path + ": unsupported file mode 0" + Integer.toOctalString(i.mode));
    }
    files.put(i.nid, n);
    return n;
  }

  private ErofsNode.ChunkedFile chunked(Inode i, boolean exec, String path)
      throws ErofsFormatException {
    int fmt = i.iu & 0xFFFF;
    if ((fmt & ~(CHUNK_FORMAT_INDEXES | CHUNK_FORMAT_BLKBITS_MASK)) != 0) {
      throw new ErofsFormatException(
          path + ": unsupported chunk format 0x" + Integer.toHexString(fmt));
    }
    int shift = BLOCK_SHIFT + (fmt & CHUNK_FORMAT_BLKBITS_MASK);
    boolean indexes = (fmt & CHUNK_FORMAT_INDEXES) != 0;
    int unit = indexes ? CHUNK_INDEX_SIZE : BLOCK_MAP_ENTRY_SIZE;
    long n = ErofsNode.ChunkedFile.chunkCount(i.size, shift);
    long pos = (i.dataStart + unit - 1L) & -unit;
    if (n > (img.length - Math.min(pos, img.length)) / unit) {
      throw new ErofsFormatException(path + ": " + n + " chunk indexes run past the image");
    }
    spend(n * unit, path);
    List<ChunkLocation> locs = new ArrayList<>((int) n);
    for (int j = 0; j < n; j++) {
      int at = (int) (pos + (long) j * unit);
      if (indexes) {
        int dev = le.getShort(at + 2) & 0xFFFF;
        if (dev > extraDevices) {
          throw new ErofsFormatException(
              path + ": chunk " + j + " on device " + dev + " of " + extraDevices);
        }
        locs.add(new ChunkLocation(dev, le.getInt(at + 4) & 0xFFFF_FFFFL));
      } else {
        locs.add(new ChunkLocation(0, le.getInt(at) & 0xFFFF_FFFFL));
      }
    }
    return new ErofsNode.ChunkedFile(i.size, shift, locs, exec);
  }

  // ---- directories: iterative depth-first walk ----

  /** A directory whose entries are being resolved. */
  private static final class Pending {
    final long nid;
    final String path;
    final int depth;
    final List<byte[]> names = new ArrayList<>();
    final List<Long> nids = new ArrayList<>();
    final List<Integer> types = new ArrayList<>();
    final List<ErofsNode.Entry> built = new ArrayList<>();
    final String nameInParent;
    int next;

    Pending(long nid, String path, int depth, String nameInParent) {
      this.nid = nid;
      this.path = path;
      this.depth = depth;
      this.nameInParent = nameInParent;
    }
  }

  private ErofsNode.Directory walk(long rootNid) throws ErofsFormatException {
    ArrayDeque<Pending> stack = new ArrayDeque<>();
    Inode root = inode(rootNid, "/");
    if (root.type() != S_IFDIR) {
      throw new ErofsFormatException("root inode is not a directory");
    }
    stack.push(open(root, rootNid, "/", 0, null));
    while (true) {
      Pending top = stack.peek();
      if (top.next == top.nids.size()) {
        stack.pop();
        ErofsNode.Directory d = new ErofsNode.Directory(top.built);
        if (stack.isEmpty()) {
          return d;
        }
        stack.peek().built.add(new ErofsNode.Entry(top.nameInParent, d));
        continue;
      }
      int j = top.next++;
      String name = decode(top.names.get(j), 0, top.names.get(j).length, top.path + " entry name");
      String path = (top.path.equals("/") ? "/" : top.path + "/") + name;
      long nid = top.nids.get(j);
      Inode child = inode(nid, path);
      int ft = top.types.get(j);
      int want =
          switch (child.type()) {
            case S_IFDIR -> FT_DIR;
            case S_IFREG -> FT_REG_FILE;
            case S_IFLNK -> FT_SYMLINK;
            default -> -1;
          };
      if (want < 0) {
        throw new ErofsFormatException(
            path + ": unsupported file mode 0" + Integer.toOctalString(child.mode));
      }
      if (ft != want) {
        throw new ErofsFormatException(path + ": dirent file type " + ft + " disagrees with inode");
      }
      if (child.type() == S_IFDIR) {
        if (top.depth + 1 > ErofsWriter.MAX_DEPTH) {
          throw new ErofsFormatException(path + ": directories nested too deeply");
        }
        stack.push(open(child, top.nid, path, top.depth + 1, name));
      } else {
        top.built.add(new ErofsNode.Entry(name, leaf(child, path)));
      }
    }
  }

  private Pending open(Inode dir, long parentNid, String path, int depth, String name)
      throws ErofsFormatException {
    if (!dirsSeen.add(dir.nid)) {
      throw new ErofsFormatException(path + ": directory nid " + dir.nid + " appears twice");
    }
    Pending p = new Pending(dir.nid, path, depth, name);
    byte[] data = flatData(dir, path);
    boolean dot = false;
    boolean dotdot = false;
    byte[] prev = null;
    ByteBuffer d = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    for (int start = 0; start < data.length; start += BLOCK_SIZE) {
      int max = Math.min(BLOCK_SIZE, data.length - start);
      if (max < DIRENT_SIZE) {
        throw new ErofsFormatException(path + ": directory block too short");
      }
      int nameoff0 = d.getShort(start + DE_NAMEOFF) & 0xFFFF;
      if (nameoff0 < DIRENT_SIZE || nameoff0 >= max || nameoff0 % DIRENT_SIZE != 0) {
        throw new ErofsFormatException(path + ": invalid de[0].nameoff " + nameoff0);
      }
      int k = nameoff0 / DIRENT_SIZE;
      for (int j = 0; j < k; j++) {
        int de = start + j * DIRENT_SIZE;
        int nameoff = d.getShort(de + DE_NAMEOFF) & 0xFFFF;
        int end;
        if (j + 1 < k) {
          end = d.getShort(de + DIRENT_SIZE + DE_NAMEOFF) & 0xFFFF;
        } else {
          end = nameoff;
          while (end < max && data[start + end] != 0) {
            end++;
          }
        }
        int len = end - nameoff;
        if (nameoff < nameoff0 || len < 1 || len > NAME_MAX || end > max) {
          throw new ErofsFormatException(
              path + ": bogus dirent " + j + " in block " + start / BLOCK_SIZE);
        }
        byte[] nm = Arrays.copyOfRange(data, start + nameoff, start + end);
        if (prev != null && Arrays.compareUnsigned(prev, nm) >= 0) {
          throw new ErofsFormatException(path + ": directory entries not strictly sorted");
        }
        prev = nm;
        long nid = d.getLong(de + DE_NID);
        int ft = data[de + DE_FILE_TYPE] & 0xFF;
        if (len == 1 && nm[0] == '.') {
          if (nid != dir.nid || ft != FT_DIR) {
            throw new ErofsFormatException(path + ": '.' does not point at the directory itself");
          }
          dot = true;
          continue;
        }
        if (len == 2 && nm[0] == '.' && nm[1] == '.') {
          if (nid != parentNid || ft != FT_DIR) {
            throw new ErofsFormatException(path + ": '..' does not point at the parent");
          }
          dotdot = true;
          continue;
        }
        for (byte c : nm) {
          if (c == '/' || c == 0) {
            throw new ErofsFormatException(path + ": entry name contains '/' or NUL");
          }
        }
        p.names.add(nm);
        p.nids.add(nid);
        p.types.add(ft);
      }
    }
    if (!dot || !dotdot) {
      throw new ErofsFormatException(path + ": '.' or '..' entry missing");
    }
    return p;
  }
}
