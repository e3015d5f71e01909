package dev.styx.cache;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a (decompressing) stream on its own thread into a few bounded blocks, so decompression runs
 * in parallel with the consumer's hashing and parsing, and a consumer pause (chunk back-pressure,
 * GC) does not stall the decoder, which is the bottleneck ingest should keep pace with. Exceptions
 * of the source are rethrown to the reader as they are (their type classifies the failure).
 */
final class ReadAheadInputStream extends BulkInputStream {
  /** Blocks buffered ahead: 16 x 256 KiB = 4 MiB at most per stream. */
  private static final int BLOCKS = 16;

  private static final int BLOCK_SIZE = 256 * 1024;

  /** A filled block: its bytes and how many are valid; {@code len < 0} ends the stream. */
  private record Block(byte[] data, int len, Throwable failure) {}

  private static final Block END = new Block(new byte[0], -1, null);

  private final InputStream source;
  private final Thread pump;
  private final BlockingQueue<Block> full = new ArrayBlockingQueue<>(BLOCKS + 1);
  private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(BLOCKS);
  private Block current;
  private int pos;
  private boolean eof;
  private Throwable failed;
  private boolean closed;

  ReadAheadInputStream(InputStream source, String name) {
    this.source = source;
    for (int i = 0; i < BLOCKS; i++) {
      free.add(new byte[BLOCK_SIZE]);
    }
    // A platform thread: it sits in native decoders and pipe reads.
    this.pump = Thread.ofPlatform().daemon().name("nar-readahead-" + name).unstarted(this::run);
    pump.start();
  }

  private void run() {
    try {
      while (true) {
        byte[] b = free.take();
        int len = source.readNBytes(b, 0, BLOCK_SIZE);
        if (len > 0) {
          full.put(new Block(b, len, null));
        }
        if (len < BLOCK_SIZE) {
          // readNBytes returns a short count only at end of stream (which also runs the source's
          // end-of-stream checks).
          full.put(END);
          return;
        }
      }
    } catch (InterruptedException e) {
      // closed by the reader
    } catch (IOException | RuntimeException | Error e) {
      full.offer(new Block(null, -1, e));
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (closed) {
      throw new IOException("stream closed");
    }
    if (failed != null) {
      rethrow(failed);
    }
    if (eof) {
      return -1;
    }
    if (len == 0) {
      return 0;
    }
    if (current == null) {
      try {
        current = full.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted reading the NAR");
      }
      pos = 0;
      if (current.len() < 0) {
        Throwable t = current.failure();
        current = null;
        if (t == null) {
          eof = true;
          return -1;
        }
        failed = t; // the failure is final
        rethrow(t);
      }
    }
    int n = Math.min(len, current.len() - pos);
    System.arraycopy(current.data(), pos, b, off, n);
    pos += n;
    if (pos == current.len()) {
      free.offer(current.data());
      current = null;
    }
    return n;
  }

  private static void rethrow(Throwable t) throws IOException {
    switch (t) {
      case IOException io -> throw io;
      case RuntimeException re -> throw re;
      case Error er -> throw er;
      default -> throw new IOException(t);
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    pump.interrupt();
    try {
      // Closing the source (killing a child decoder, closing the file) unblocks a pump in a read.
      source.close();
    } finally {
      try {
        pump.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
