package dev.styx.cache;

import java.io.IOException;
import java.io.InputStream;

/** An InputStream that implements only the bulk read; a single-byte read goes through it. */
abstract class BulkInputStream extends InputStream {
  @Override
  public final int read() throws IOException {
    byte[] one = new byte[1];
    int n;
    while ((n = read(one, 0, 1)) == 0) {
      // keep reading
    }
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public abstract int read(byte[] b, int off, int len) throws IOException;
}
