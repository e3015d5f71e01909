package dev.styx.cache;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Counts the bytes read through it and, given a digest, hashes them; {@link #skip} reads through,
 * so no byte goes uncounted or unhashed.
 */
final class CountingInputStream extends FilterInputStream {
  /** The digest fed with every byte read, or null. */
  final MessageDigest md;

  /** Bytes read so far. */
  long count;

  CountingInputStream(InputStream in, MessageDigest md) {
    super(in);
    this.md = md;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      count++;
      if (md != null) {
        md.update((byte) b);
      }
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      count += n;
      if (md != null) {
        md.update(b, off, n);
      }
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] tmp = new byte[(int) Math.min(n, 64 * 1024)];
    int r = read(tmp, 0, tmp.length);
    return Math.max(r, 0);
  }
}
