package dev.styx.cache;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fails a read that waits longer than the timeout for data: the JDK HttpClient times out only until
 * the response headers, so a server that stalls mid-body would otherwise block forever. Only time
 * spent inside {@code read} counts, so a slow consumer never trips it.
 */
final class StallGuardInputStream extends FilterInputStream {
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "styx-http-stall-watchdog");
            t.setDaemon(true);
            return t;
          });

  private final long timeoutNanos;
  private final String url;
  private final ScheduledFuture<?> task;
  private volatile long readingSince;
  private volatile boolean stalled;

  StallGuardInputStream(InputStream in, Duration timeout, String url) {
    super(in);
    this.timeoutNanos = timeout.toNanos();
    this.url = url;
    long period = Math.max(10, timeout.toMillis() / 4);
    this.task = WATCHDOG.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
  }

  private void check() {
    long since = readingSince;
    if (since != 0 && System.nanoTime() - since > timeoutNanos) {
      stalled = true;
      task.cancel(false);
      try {
        in.close(); // unblocks the waiting reader
      } catch (IOException ignored) {
        // the read fails either way
      }
    }
  }

  private IOException stallError() {
    return new BinaryCacheException(
        "GET " + url + ": no data for " + Duration.ofNanos(timeoutNanos).toMillis() + " ms");
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (stalled) {
      throw stallError();
    }
    readingSince = System.nanoTime();
    try {
      int n = in.read(b, off, len);
      if (stalled) {
        throw stallError();
      }
      return n;
    } catch (IOException e) {
      if (stalled) {
        throw stallError();
      }
      throw e;
    } finally {
      readingSince = 0;
    }
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] tmp = new byte[(int) Math.min(Math.max(n, 0), 64 * 1024)];
    int r = read(tmp, 0, tmp.length);
    return Math.max(r, 0);
  }

  @Override
  public void close() throws IOException {
    task.cancel(false);
    super.close();
  }
}
