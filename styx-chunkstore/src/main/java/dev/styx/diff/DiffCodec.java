package dev.styx.diff;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdDictContentType;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Binary diffs of chunks: the targets, concatenated, compressed as ONE zstd frame with the bases,
 * concatenated, loaded as a raw-content dictionary. That is exactly what {@code zstd
 * --patch-from=BASE} produces and consumes (a raw-content dictionary is the same as a referenced
 * prefix), so {@code zstd -d --patch-from=BASE} decodes it too. With no bases the frame is a plain
 * batch of chunks.
 *
 * <p>Limits keep the window at most 2^27 bytes, the zstd decoder's default maximum, so no decoder
 * needs a larger {@code --memory}/windowLogMax.
 */
public final class DiffCodec {
  private DiffCodec() {}

  /** Largest total of base bytes per frame. */
  public static final int MAX_BASE_BYTES = 64 << 20;

  /** Largest total of target bytes per frame. */
  public static final int MAX_TARGET_BYTES = 64 << 20;

  /** Default compression level (zstd's own default, and {@code --patch-from}'s). */
  public static final int DEFAULT_LEVEL = 3;

  /** Concatenates byte arrays in order. */
  public static byte[] concat(List<byte[]> parts) {
    long n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("too many bytes to concatenate: " + n);
    }
    byte[] out = new byte[(int) n];
    int off = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
  }

  /** Window log covering dictionary + content, so every base byte stays reachable. */
  static int windowLog(long baseLen, long targetLen) {
    long total = Math.max(1, baseLen + targetLen);
    int log = 64 - Long.numberOfLeadingZeros(total - 1);
    return Math.clamp(log, 10, 27);
  }

  /** Hash/chain table log that makes zstd index all of a {@code baseLen}-byte dictionary. */
  static int tableLog(long baseLen) {
    int log = 64 - Long.numberOfLeadingZeros(Math.max(1, baseLen) - 1);
    return Math.clamp(log - 2, 17, 26);
  }

  /**
   * Compresses {@code target} against {@code base} (may be empty: then a plain frame). The frame
   * records the content size and a checksum.
   */
  public static byte[] encode(byte[] base, byte[] target, int level) {
    if (base.length > MAX_BASE_BYTES) {
      throw new IllegalArgumentException(
          "diff base is " + base.length + " bytes (max " + MAX_BASE_BYTES + ")");
    }
    if (target.length > MAX_TARGET_BYTES) {
      throw new IllegalArgumentException(
          "diff target is " + target.length + " bytes (max " + MAX_TARGET_BYTES + ")");
    }
    try (ZstdCompressCtx c = new ZstdCompressCtx()) {
      c.setLevel(level);
      c.setChecksum(true);
      c.setContentSize(true);
      if (base.length > 0) {
        c.setWindowLog(windowLog(base.length, target.length));
        // zstd indexes only the last 8 << max(hashLog, chainLog) bytes of a dictionary (below
        // btultra); size the tables so the whole base is searchable, as a patch needs.
        int tables = tableLog(base.length);
        c.setHashLog(tables);
        c.setChainLog(tables);
        c.loadDict(base, ZstdDictContentType.RAW_CONTENT);
      }
      return c.compress(target);
    }
  }

  /**
   * Decodes a frame made by {@link #encode} (or {@code zstd --patch-from}) against the same base;
   * the result must be exactly {@code expectedLength} bytes.
   */
  public static byte[] decode(byte[] base, byte[] frame, int expectedLength) throws IOException {
    if (expectedLength < 0 || expectedLength > MAX_TARGET_BYTES) {
      throw new IOException("diff target length " + expectedLength + " out of range");
    }
    try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
      if (base.length > 0) {
        d.loadDict(base, ZstdDictContentType.RAW_CONTENT);
      }
      // One byte of slack detects a frame longer than announced.
      byte[] out = new byte[expectedLength + 1];
      int n = d.decompressByteArray(out, 0, out.length, frame, 0, frame.length);
      if (n != expectedLength) {
        throw new IOException("diff decoded to " + n + " bytes, expected " + expectedLength);
      }
      return Arrays.copyOf(out, n);
    } catch (ZstdException e) {
      throw new IOException("bad diff frame: " + e.getMessage(), e);
    }
  }

  /** Splits decoded bytes into pieces of the given lengths, which must add up exactly. */
  public static List<byte[]> split(byte[] data, long[] lengths) throws IOException {
    List<byte[]> out = new ArrayList<>(lengths.length);
    int off = 0;
    for (long len : lengths) {
      if (len < 0 || off + len > data.length) {
        throw new IOException("lengths exceed decoded data (" + data.length + " bytes)");
      }
      out.add(Arrays.copyOfRange(data, off, (int) (off + len)));
      off += (int) len;
    }
    if (off != data.length) {
      throw new IOException(
          "decoded data has " + (data.length - off) + " bytes beyond the lengths");
    }
    return out;
  }
}
