package dev.styx.cache;

import java.io.IOException;
import java.io.InputStream;

/** An upstream whose connection drops: the first bytes of a file, then "connection reset". */
final class FailingUpstream extends InputStream {
  private final byte[] data;
  private final int len;
  private int pos;

  /** Serves {@code data[0, len)}, then fails every read with IOException("connection reset"). */
  FailingUpstream(byte[] data, int len) {
    this.data = data;
    this.len = len;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int n) throws IOException {
    if (pos >= len) {
      throw new IOException("connection reset");
    }
    int k = Math.min(n, len - pos);
    System.arraycopy(data, pos, b, off, k);
    pos += k;
    return k;
  }
}
