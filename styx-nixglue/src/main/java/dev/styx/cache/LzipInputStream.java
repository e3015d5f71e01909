package dev.styx.cache;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import org.tukaani.xz.LZMAInputStream;

/**
 * An lzip file ({@code Compression: lzip}, which Nix writes through libarchive) decoded with xz's
 * raw LZMA decoder. Format (lzip manual, "File format"), per member:
 *
 * <pre>
 *   0  "LZIP"   magic
 *   4  VN       version, 1
 *   5  DS       coded dictionary size: 2^(DS &amp; 0x1f) minus (DS &gt;&gt; 5) sixteenths of it
 *   6  ...      LZMA stream, lc=3 lp=0 pb=2, always ended by an end-of-stream marker
 *  -20 CRC32    of the decoded data, little-endian
 *  -16 size     of the decoded data, 8 bytes little-endian
 *   -8 size     of the member, header and trailer included, 8 bytes little-endian
 * </pre>
 *
 * Members follow each other; anything after the last one that is not a member is an error (as
 * {@code lzip -d} says without {@code --loose-trailing}). Every trailer field is checked, so a
 * damaged or cut file fails here with its reason rather than as a NarHash mismatch later.
 */
final class LzipInputStream extends BulkInputStream {
  private static final byte[] MAGIC = {'L', 'Z', 'I', 'P'};

  /** lc=3, lp=0, pb=2 as one LZMA properties byte: (pb * 5 + lp) * 9 + lc. */
  private static final byte PROPERTIES = (2 * 5 + 0) * 9 + 3;

  private static final int MIN_DICT = 1 << 12;
  private static final int MAX_DICT = 1 << 29;

  /** Counts the bytes the decoder takes, for the trailer's member size. */
  private final CountingInputStream in;

  private final int memoryLimitKib;
  private final String what;
  private final CRC32 crc = new CRC32();
  private LZMAInputStream member;
  private long memberStart;
  private long decoded;
  private boolean done;

  /** Decodes {@code in} (buffered by the caller); dictionaries above the limit are refused. */
  LzipInputStream(InputStream in, int memoryLimitKib, String what) throws IOException {
    this.in = new CountingInputStream(in, null);
    this.memoryLimitKib = memoryLimitKib;
    this.what = what;
    openMember(true);
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (!done) {
      int n;
      try {
        n = member.read(b, off, len);
      } catch (EOFException e) {
        throw corrupt("truncated LZMA data");
      } catch (org.tukaani.xz.CorruptedInputException e) {
        throw corrupt("corrupt LZMA data (" + e.getMessage() + ")");
      }
      if (n > 0) {
        crc.update(b, off, n);
        decoded += n;
        return n;
      }
      checkTrailer();
      openMember(false);
    }
    return -1;
  }

  /** Reads the next member's header; false at end of input (allowed after the first member). */
  private boolean openMember(boolean first) throws IOException {
    memberStart = in.count;
    byte[] header = new byte[6];
    int got = in.readNBytes(header, 0, header.length);
    if (got == 0) {
      if (first) {
        throw corrupt("empty file, not lzip");
      }
      done = true;
      return false;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (i >= got || header[i] != MAGIC[i]) {
        throw corrupt(
            first ? "not an lzip file (bad magic)" : "trailing data after the last member");
      }
    }
    if (got < header.length) {
      throw corrupt("truncated member header");
    }
    if (header[4] != 1) {
      throw corrupt("unsupported lzip version " + (header[4] & 0xff));
    }
    int ds = header[5] & 0xff;
    int exp = ds & 0x1f;
    if (exp < 12 || exp > 29) {
      throw corrupt("invalid dictionary size code " + ds);
    }
    long dict = (1L << exp) - ((1L << exp) / 16) * (ds >>> 5);
    if (dict < MIN_DICT || dict > MAX_DICT) {
      throw corrupt("invalid dictionary size " + dict);
    }
    long needKib = LZMAInputStream.getMemoryUsage((int) dict, PROPERTIES);
    if (needKib > memoryLimitKib) {
      throw corrupt(
          "needs "
              + needKib
              + " KiB to decode (dictionary "
              + dict
              + " bytes), over the limit of "
              + memoryLimitKib
              + " KiB");
    }
    try {
      member = new LZMAInputStream(in, -1, PROPERTIES, (int) dict); // reads the coder's 5 bytes
    } catch (EOFException e) {
      throw corrupt("truncated LZMA data");
    }
    crc.reset();
    decoded = 0;
    return true;
  }

  /** Checks the member just ended against its 20-byte trailer. */
  private void checkTrailer() throws IOException {
    byte[] t = new byte[20];
    if (in.readNBytes(t, 0, t.length) != t.length) {
      throw corrupt("truncated member trailer");
    }
    long wantCrc = le(t, 0, 4);
    long wantSize = le(t, 4, 8);
    long wantMember = le(t, 12, 8);
    if (wantCrc != crc.getValue()) {
      throw corrupt(
          String.format("CRC32 mismatch: trailer %08x, data %08x", wantCrc, crc.getValue()));
    }
    if (wantSize != decoded) {
      throw corrupt("data size mismatch: trailer " + wantSize + ", decoded " + decoded);
    }
    long memberSize = in.count - memberStart;
    if (wantMember != memberSize) {
      throw corrupt("member size mismatch: trailer " + wantMember + ", read " + memberSize);
    }
  }

  private static long le(byte[] b, int off, int n) {
    long v = 0;
    for (int i = n - 1; i >= 0; i--) {
      v = (v << 8) | (b[off + i] & 0xff);
    }
    return v;
  }

  private CorruptCompressionException corrupt(String why) {
    return new CorruptCompressionException("lzip: " + what + ": " + why);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
