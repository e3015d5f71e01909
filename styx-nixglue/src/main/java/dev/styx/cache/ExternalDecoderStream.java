package dev.styx.cache;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A NAR decompressed by a child process ({@code xz -dc}, {@code zstd -dc}), as the Go original
 * does: liblzma decodes faster than the Java decoder and runs on its own core, in parallel with
 * hashing and chunking. A feeder thread copies the compressed bytes into the child's stdin (so the
 * caller's stream, which hashes them, still sees every byte); the pipes bound memory. End of stream
 * is reported only after the feeder finished and the child exited with status 0, so a truncated or
 * corrupt file fails like it does with the Java decoders. Closing kills the child.
 */
final class ExternalDecoderStream extends BulkInputStream {
  /** Most stderr text kept for the error message. */
  private static final int MAX_STDERR = 4096;

  private final List<String> command;
  private final String what;
  private final Process process;
  private final InputStream out;
  private final InputStream compressed;
  private final Thread feeder;
  private final Thread errDrain;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
  private volatile IOException feedFailure;
  private boolean eof;
  private boolean closed;

  /**
   * Starts {@code command} and feeds it {@code compressed}; {@code what} names the file in errors.
   */
  ExternalDecoderStream(List<String> command, InputStream compressed, String what)
      throws IOException {
    this.command = List.copyOf(command);
    this.what = what;
    this.process = new ProcessBuilder(command).start();
    this.out = process.getInputStream();
    this.compressed = compressed;
    this.feeder =
        Thread.ofPlatform()
            .daemon()
            .name("nar-feed-" + command.get(0))
            .unstarted(() -> feed(compressed, process.getOutputStream()));
    this.errDrain =
        Thread.ofPlatform()
            .daemon()
            .name("nar-stderr-" + command.get(0))
            .unstarted(this::drainStderr);
    feeder.start();
    errDrain.start();
  }

  private void feed(InputStream in, OutputStream stdin) {
    byte[] buf = new byte[128 * 1024];
    try (OutputStream o = stdin) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        o.write(buf, 0, n);
      }
    } catch (IOException e) {
      // The child exiting early (corrupt input) closes the pipe: that is reported from the exit
      // status, so a broken pipe is only kept if the child turns out to have succeeded.
      feedFailure = e;
    }
  }

  private void drainStderr() {
    byte[] buf = new byte[1024];
    try (InputStream err = process.getErrorStream()) {
      int n;
      while ((n = err.read(buf)) >= 0) {
        synchronized (stderr) {
          if (stderr.size() < MAX_STDERR) {
            stderr.write(buf, 0, Math.min(n, MAX_STDERR - stderr.size()));
          }
        }
      }
    } catch (IOException ignored) {
      // the child is gone; what we have is the message
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (eof) {
      return -1;
    }
    if (closed) {
      throw new IOException("stream closed");
    }
    int n = out.read(b, off, len);
    if (n < 0) {
      finish();
      eof = true;
    }
    return n;
  }

  /** At end of output: the whole input was fed and the child succeeded, or this throws. */
  private void finish() throws IOException {
    int status;
    try {
      feeder.join();
      status = process.waitFor();
      errDrain.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      throw new InterruptedIOException("interrupted waiting for " + command.get(0));
    }
    IOException fed = feedFailure;
    if (status != 0) {
      // An upstream read error truncates the input too; report the cause, not the symptom.
      if (fed != null && !isBrokenPipe(fed)) {
        throw fed;
      }
      throw new CorruptCompressionException(
          String.join(" ", command)
              + " failed on "
              + what
              + " (exit status "
              + status
              + "): "
              + stderrText());
    }
    if (fed != null) {
      throw fed; // the child took less than the whole file, or reading it failed
    }
  }

  private static boolean isBrokenPipe(IOException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
    return m.contains("broken pipe") || m.contains("stream closed");
  }

  private String stderrText() {
    synchronized (stderr) {
      String s = stderr.toString(StandardCharsets.UTF_8).strip();
      return s.isEmpty() ? "no message" : s.replace('\n', ' ');
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    if (process.isAlive()) {
      process.destroyForcibly();
    }
    // Closing the input unblocks a feeder stuck reading it; one stuck writing fails once the
    // killed child's stdin breaks.
    try (InputStream c = compressed;
        InputStream o = out) {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
