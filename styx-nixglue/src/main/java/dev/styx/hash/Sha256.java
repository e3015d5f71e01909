package dev.styx.hash;

import java.util.Objects;

/**
 * SHA-256 (FIPS 180-4) whose block rounds run on the CPU's SHA extensions, and which can hash the
 * same bytes into two digests in one interleaved pass ({@link #updateBoth}). Ingest needs two
 * digests of every file byte, the NarHash over the NAR stream and each chunk's own name: the JDK
 * runs them one after the other at about 1.7 GB/s each, {@link #updateBoth} runs both at 2.6 GB/s
 * together.
 *
 * <p>Exists only where {@link #available()} (the native library is in the jar and the CPU has the
 * extensions); elsewhere callers keep using {@link java.security.MessageDigest}. Padding (FIPS
 * 180-4 section 5.1.1), buffering of partial blocks and the digest's byte order are here; the
 * native side only runs whole blocks. Not thread-safe.
 */
public final class Sha256 {
  /** Digest length in bytes. */
  public static final int LENGTH = 32;

  private static final int BLOCK = 64;

  /** Initial hash value H(0), FIPS 180-4 section 5.3.3. */
  private static final int[] IV = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  };

  private final Sha256Blocks blocks;
  private final int[] state = IV.clone();
  private final byte[] pending = new byte[BLOCK];
  private int pendingLen;
  private long length;

  private Sha256(Sha256Blocks blocks) {
    this.blocks = blocks;
  }

  /** Whether this machine runs the native rounds; if not, {@link #create} throws. */
  public static boolean available() {
    return Sha256Blocks.get().isPresent();
  }

  /** Why {@link #available()} is false (for logs), or null if it is true. */
  public static String unavailableReason() {
    Sha256Blocks.get();
    return Sha256Blocks.Holder.failure;
  }

  /** A new digest; throws {@link IllegalStateException} where not {@link #available()}. */
  public static Sha256 create() {
    return new Sha256(
        Sha256Blocks.get()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "native SHA-256 unavailable: " + unavailableReason())));
  }

  /** Starts over, as if new. */
  public void reset() {
    System.arraycopy(IV, 0, state, 0, IV.length);
    pendingLen = 0;
    length = 0;
  }

  /** Bytes hashed so far. */
  public long length() {
    return length;
  }

  /** Hashes {@code b[off, off+len)}. */
  public void update(byte[] b, int off, int len) {
    Objects.checkFromIndexSize(off, len, b.length);
    length += len;
    absorb(b, off, len);
  }

  /**
   * Hashes {@code b[off, off+len)} into both {@code x} and {@code y} (two different digests), their
   * whole blocks two at a time.
   */
  public static void updateBoth(Sha256 x, Sha256 y, byte[] b, int off, int len) {
    Objects.checkFromIndexSize(off, len, b.length);
    if (x == y) {
      throw new IllegalArgumentException("updateBoth needs two different digests");
    }
    x.length += len;
    y.length += len;
    // Complete each one's partial block first: from there, each reads whole blocks of b at its own
    // offset, and the blocks both can take run interleaved.
    int xs = x.topUp(b, off, len);
    int ys = y.topUp(b, off, len);
    long both = Math.min(len - xs, len - ys) / BLOCK;
    if (both > 0) {
      x.blocks.styx_sha256_blocks2(x.state, b, off + xs, y.state, b, off + ys, both);
    }
    int done = (int) both * BLOCK;
    x.absorb(b, off + xs + done, len - xs - done);
    y.absorb(b, off + ys + done, len - ys - done);
  }

  /** The digest of everything hashed since creation or {@link #reset}; then resets. */
  public byte[] digest() {
    long bits = length << 3;
    byte[] pad = new byte[2 * BLOCK];
    pad[0] = (byte) 0x80;
    // 0x80, zeros, then the 64-bit big-endian bit length, ending on a block boundary (5.1.1).
    int padLen = (pendingLen < 56 ? 56 : 120) - pendingLen;
    for (int i = 0; i < 8; i++) {
      pad[padLen + i] = (byte) (bits >>> (56 - 8 * i));
    }
    absorb(pad, 0, padLen + 8);
    byte[] out = new byte[LENGTH];
    for (int i = 0; i < 8; i++) {
      int v = state[i];
      out[4 * i] = (byte) (v >>> 24);
      out[4 * i + 1] = (byte) (v >>> 16);
      out[4 * i + 2] = (byte) (v >>> 8);
      out[4 * i + 3] = (byte) v;
    }
    reset();
    return out;
  }

  /** An independent digest in the same state. */
  public Sha256 copy() {
    Sha256 c = new Sha256(blocks);
    System.arraycopy(state, 0, c.state, 0, state.length);
    System.arraycopy(pending, 0, c.pending, 0, pendingLen);
    c.pendingLen = pendingLen;
    c.length = length;
    return c;
  }

  /**
   * Moves bytes of {@code b[off, off+len)} into the partial block until it is whole (and runs it);
   * returns how many it took (0 when there was no partial block).
   */
  private int topUp(byte[] b, int off, int len) {
    if (pendingLen == 0) {
      return 0;
    }
    int n = Math.min(BLOCK - pendingLen, len);
    System.arraycopy(b, off, pending, pendingLen, n);
    pendingLen += n;
    if (pendingLen == BLOCK) {
      blocks.styx_sha256_blocks(state, pending, 0, 1);
      pendingLen = 0;
    }
    return n;
  }

  /** Hashes bytes without counting them in {@link #length} (the callers count). */
  private void absorb(byte[] b, int off, int len) {
    int took = topUp(b, off, len);
    off += took;
    len -= took;
    if (len == 0) {
      return;
    }
    int whole = len / BLOCK;
    if (whole > 0) {
      blocks.styx_sha256_blocks(state, b, off, whole);
      off += whole * BLOCK;
      len -= whole * BLOCK;
    }
    System.arraycopy(b, off, pending, 0, len);
    pendingLen = len;
  }
}
