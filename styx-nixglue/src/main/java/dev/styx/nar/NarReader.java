package dev.styx.nar;

import dev.styx.hash.DigestHandoff;
import dev.styx.hash.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Streaming NAR parser with constant memory: file contents are handed to the visitor as a bounded
 * stream, never buffered whole. Validation follows the NAR grammar (Nix manual, "Nix Archive"
 * format; nar.ksy): every string is a u64 little-endian length, the bytes, and zero padding to a
 * multiple of 8. Errors are {@link NarFormatException}s naming the byte offset.
 */
public final class NarReader {
  /** The magic string that opens every NAR. */
  public static final String MAGIC = "nix-archive-1";

  /** Deepest directory nesting accepted (Nix has none; real trees stay far below it). */
  public static final int MAX_DEPTH = 256;

  private static final int BUFFER_SIZE = 256 * 1024;
  private static final int MAX_TOKEN = 16;

  private final InputStream in;
  private final byte[] buf = new byte[BUFFER_SIZE];
  private int pos;
  private int lim;

  /** NAR offset of buf[0]. */
  private long base;

  /**
   * The NarHash, when the stream handed it over ({@link DigestHandoff}): this reader then hashes
   * every byte it takes from the stream, in order. Buffer bytes are hashed lazily, up to {@link
   * #hashedTo}, so that file contents can go through {@link Sha256#updateBoth} with the caller's
   * digest ({@link Contents#readHashing}); the rest is hashed before the buffer is refilled.
   */
  private Sha256 narHash;

  /** buf[0, hashedTo) is in {@link #narHash}. */
  private int hashedTo;

  private NarReader(InputStream in) {
    this.in = in;
  }

  /**
   * Parses a whole NAR from {@code in}, calling {@code visitor}; the stream must end right after
   * the NAR. Returns the NAR's size in bytes.
   */
  public static long read(InputStream in, NarVisitor visitor) throws IOException {
    NarReader r = new NarReader(in);
    if (in instanceof DigestHandoff h) {
      r.narHash = h.handOffDigest().orElse(null);
    }
    r.parseNar(visitor);
    if (r.pos == r.lim && !r.fill()) {
      return r.offset();
    }
    throw new NarFormatException(r.offset(), "trailing data after the end of the NAR");
  }

  private long offset() {
    return base + pos;
  }

  /** Hashes the buffer's bytes not yet in {@link #narHash} up to {@code to}. */
  private void hashBuffer(int to) {
    if (narHash != null && hashedTo < to) {
      narHash.update(buf, hashedTo, to - hashedTo);
      hashedTo = to;
    }
  }

  /**
   * Lets go of the exhausted buffer before the next read from the stream: its unhashed bytes go
   * into the NarHash first, because that read may be the stream's last (and check it).
   */
  private void releaseBuffer() {
    hashBuffer(lim);
    hashedTo = 0;
    base += lim;
    pos = 0;
    lim = 0;
  }

  /** Refills after the buffer is exhausted; false at EOF. */
  private boolean fill() throws IOException {
    releaseBuffer();
    int n = in.read(buf, 0, buf.length);
    while (n == 0) {
      n = in.read(buf, 0, buf.length);
    }
    if (n < 0) {
      return false;
    }
    lim = n;
    return true;
  }

  private NarFormatException truncated(String what) {
    return new NarFormatException(offset(), "truncated NAR: end of input inside " + what);
  }

  private long readU64(String what) throws IOException {
    if (lim - pos >= 8) {
      long v = littleEndian(buf, pos);
      pos += 8;
      return v;
    }
    byte[] b = new byte[8];
    readFully(b, 0, 8, what);
    return littleEndian(b, 0);
  }

  private static long littleEndian(byte[] b, int p) {
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[p + i] & 0xffL);
    }
    return v;
  }

  private void readFully(byte[] dst, int off, int len, String what) throws IOException {
    while (len > 0) {
      if (pos == lim && !fill()) {
        throw truncated(what);
      }
      int n = Math.min(len, lim - pos);
      System.arraycopy(buf, pos, dst, off, n);
      pos += n;
      off += n;
      len -= n;
    }
  }

  private void skipPadding(long len, String what) throws IOException {
    int pad = (int) ((8 - (len & 7)) & 7);
    for (int i = 0; i < pad; i++) {
      if (pos == lim && !fill()) {
        throw truncated("padding of " + what);
      }
      if (buf[pos] != 0) {
        throw new NarFormatException(offset(), "non-zero padding byte after " + what);
      }
      pos++;
    }
  }

  /** Reads a length-prefixed string of at most {@code max} bytes. */
  private byte[] readString(int max, String what) throws IOException {
    long start = offset();
    long len = readU64("length of " + what);
    if (len < 0 || len > max) {
      throw new NarFormatException(
          start,
          "length "
              + Long.toUnsignedString(len)
              + " of "
              + what
              + " exceeds the maximum of "
              + max);
    }
    byte[] s = new byte[(int) len];
    readFully(s, 0, s.length, what);
    skipPadding(len, what);
    return s;
  }

  private String readToken(String what) throws IOException {
    return new String(readString(MAX_TOKEN, what), StandardCharsets.ISO_8859_1);
  }

  private void expect(String token) throws IOException {
    long start = offset();
    String got = readToken("'" + token + "'");
    if (!got.equals(token)) {
      throw new NarFormatException(
          start, "expected '" + token + "', found '" + printable(got) + "'");
    }
  }

  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return b.toString();
  }

  private void parseNar(NarVisitor v) throws IOException {
    byte[] magic = MAGIC.getBytes(StandardCharsets.US_ASCII);
    long len;
    try {
      len = readU64("magic");
    } catch (NarFormatException e) {
      throw new NarFormatException(0, "not a NAR: input ends before the magic");
    }
    if (len != magic.length) {
      throw new NarFormatException(0, "not a NAR: magic is not '" + MAGIC + "'");
    }
    byte[] got = new byte[magic.length];
    readFully(got, 0, got.length, "magic");
    if (!Arrays.equals(got, magic)) {
      throw new NarFormatException(0, "not a NAR: magic is not '" + MAGIC + "'");
    }
    skipPadding(len, "magic");
    parseNode(v, NarPath.ROOT);
  }

  private void parseNode(NarVisitor v, NarPath path) throws IOException {
    expect("(");
    expect("type");
    long typeAt = offset();
    String type = readToken("node type");
    switch (type) {
      case "regular" -> parseRegular(v, path);
      case "symlink" -> {
        expect("target");
        long at = offset();
        byte[] target = readString(NarNames.MAX_TARGET, "symlink target");
        String bad = NarNames.targetProblem(target);
        if (bad != null) {
          throw new NarFormatException(at, bad + " at '" + path + "'");
        }
        v.symlink(path, target);
        expect(")");
      }
      case "directory" -> parseDirectory(v, path);
      default ->
          throw new NarFormatException(typeAt, "unknown node type '" + printable(type) + "'");
    }
  }

  private void parseRegular(NarVisitor v, NarPath path) throws IOException {
    boolean executable = false;
    long at = offset();
    String tok = readToken("'contents' or 'executable'");
    if (tok.equals("executable")) {
      executable = true;
      long emptyAt = offset();
      long len = readU64("value of 'executable'");
      if (len != 0) {
        throw new NarFormatException(emptyAt, "'executable' must be followed by an empty string");
      }
      at = offset();
      tok = readToken("'contents'");
    }
    if (!tok.equals("contents")) {
      throw new NarFormatException(at, "expected 'contents', found '" + printable(tok) + "'");
    }
    long sizeAt = offset();
    long size = readU64("file size");
    if (size < 0) {
      throw new NarFormatException(
          sizeAt, "file size " + Long.toUnsignedString(size) + " is out of range");
    }
    Contents c = new Contents(size, offset(), path);
    try {
      v.regularFile(path, executable, size, c);
      c.drain();
    } finally {
      c.closed = true;
    }
    skipPadding(size, "contents of '" + path + "'");
    expect(")");
  }

  private void parseDirectory(NarVisitor v, NarPath path) throws IOException {
    if (path.depth() >= MAX_DEPTH) {
      throw new NarFormatException(
          offset(), "directories nested deeper than " + MAX_DEPTH + " at '" + path + "'");
    }
    v.directory(path);
    byte[] prev = null;
    while (true) {
      long at = offset();
      String tok = readToken("'entry' or ')'");
      if (tok.equals(")")) {
        break;
      }
      if (!tok.equals("entry")) {
        throw new NarFormatException(at, "expected 'entry' or ')', found '" + printable(tok) + "'");
      }
      expect("(");
      expect("name");
      long nameAt = offset();
      byte[] name = readString(NarNames.MAX_NAME, "entry name in directory '" + path + "'");
      String bad = NarNames.problem(name);
      if (bad != null) {
        throw new NarFormatException(nameAt, bad + " in directory '" + path + "'");
      }
      if (prev != null) {
        int cmp = Arrays.compareUnsigned(prev, name);
        if (cmp >= 0) {
          throw new NarFormatException(
              nameAt,
              (cmp == 0 ? "duplicate" : "unsorted")
                  + " entry name '"
                  + new String(name, StandardCharsets.UTF_8)
                  + "' in directory '"
                  + path
                  + "'");
        }
      }
      prev = name;
      expect("node");
      parseNode(v, path.resolve(name));
      expect(")");
    }
    v.endDirectory(path);
  }

  /** A regular file's contents inside the NAR stream; valid only during the visitor call. */
  public final class Contents extends InputStream {
    private final long size;
    private final long narOffset;
    private final NarPath path;
    private long remaining;
    private boolean closed;

    private Contents(long size, long narOffset, NarPath path) {
      this.size = size;
      this.remaining = size;
      this.narOffset = narOffset;
      this.path = path;
    }

    /** Byte offset of the first content byte in the NAR. */
    public long narOffset() {
      return narOffset;
    }

    /** The file size. */
    public long size() {
      return size;
    }

    private void checkOpen() throws IOException {
      if (closed) {
        throw new IOException("NAR contents of '" + path + "' read after its visitor call");
      }
    }

    @Override
    public int read() throws IOException {
      checkOpen();
      if (remaining == 0) {
        return -1;
      }
      if (pos == lim && !fill()) {
        throw truncated("contents of '" + path + "'");
      }
      remaining--;
      return buf[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return read(b, off, len, null);
    }

    /**
     * Reads like {@link #read(byte[], int, int)} and also hashes the bytes read into {@code also};
     * when this reader computes the NarHash, both digests take the bytes in one interleaved pass.
     * Needs {@link Sha256#available()}.
     */
    public int readHashing(byte[] b, int off, int len, Sha256 also) throws IOException {
      return read(b, off, len, java.util.Objects.requireNonNull(also));
    }

    private int read(byte[] b, int off, int len, Sha256 also) throws IOException {
      checkOpen();
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      if (remaining == 0) {
        return -1;
      }
      int want = (int) Math.min(len, remaining);
      if (pos == lim) {
        if (want >= buf.length) {
          // Large reads bypass the buffer: one copy less for big files.
          releaseBuffer();
          int n = in.read(b, off, want);
          if (n < 0) {
            throw truncated("contents of '" + path + "'");
          }
          base += n;
          remaining -= n;
          hashRead(b, off, n, also, true);
          return n;
        }
        if (!fill()) {
          throw truncated("contents of '" + path + "'");
        }
      }
      int n = Math.min(want, lim - pos);
      System.arraycopy(buf, pos, b, off, n);
      if (also != null) {
        hashBuffer(pos); // what came before these bytes, then the bytes for both digests
        hashRead(b, off, n, also, false);
        hashedTo = pos + n;
      }
      pos += n;
      remaining -= n;
      return n;
    }

    /**
     * Hashes bytes just read into {@code b}: into {@code also} if given, and into the NarHash if
     * this reader computes it and they did not pass through the buffer ({@code bypassed}) or go to
     * {@code also} too.
     */
    private void hashRead(byte[] b, int off, int n, Sha256 also, boolean bypassed) {
      if (narHash != null && also != null) {
        Sha256.updateBoth(narHash, also, b, off, n);
      } else if (also != null) {
        also.update(b, off, n);
      } else if (narHash != null && bypassed) {
        narHash.update(b, off, n);
      }
    }

    @Override
    public long skip(long n) throws IOException {
      checkOpen();
      long want = Math.min(Math.max(n, 0), remaining);
      long done = 0;
      while (done < want) {
        if (pos == lim && !fill()) {
          throw truncated("contents of '" + path + "'");
        }
        int k = (int) Math.min(want - done, lim - pos);
        pos += k;
        done += k;
      }
      remaining -= done;
      return done;
    }

    @Override
    public int available() {
      return (int) Math.min(remaining, lim - pos);
    }

    /** Consumes what the visitor left unread (read, not skipped: upstream digests see it). */
    private void drain() throws IOException {
      skip(remaining);
    }
  }
}
