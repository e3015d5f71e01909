package dev.styx.nar;

import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * Writes a NAR byte-exact with Nix's {@code dumpPath} (src/libutil/archive.cc): including the empty
 * string after {@code executable}. It is a {@link NarVisitor}, so {@code NarReader.read(in, new
 * NarWriter(out))} re-serializes a NAR; events must come in NAR order (checked).
 */
public final class NarWriter implements NarVisitor, AutoCloseable {
  private static final byte[] ZEROS = new byte[8];

  private final OutputStream out;

  /** The underlying file's channel when writing to a file or pipe: contents go by sendfile. */
  private final FileChannel channel;

  private final byte[] copyBuf = new byte[256 * 1024];
  private final Deque<OpenDir> open = new ArrayDeque<>();
  private long written;
  private boolean started;
  private boolean finished;

  private static final class OpenDir {
    final NarPath path;
    byte[] lastName;

    OpenDir(NarPath path) {
      this.path = path;
    }
  }

  /** Writes to {@code out} (buffered internally; {@link #close} flushes but does not close it). */
  public NarWriter(OutputStream out) {
    this.out = new BufferedOutputStream(out, 256 * 1024);
    this.channel = out instanceof FileOutputStream f ? f.getChannel() : null;
  }

  /** Bytes written so far. */
  public long bytesWritten() {
    return written;
  }

  private void writeU64(long v) throws IOException {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    out.write(b);
    written += 8;
  }

  private void pad(long len) throws IOException {
    int pad = (int) ((8 - (len & 7)) & 7);
    out.write(ZEROS, 0, pad);
    written += pad;
  }

  private void str(byte[] s) throws IOException {
    writeU64(s.length);
    out.write(s);
    written += s.length;
    pad(s.length);
  }

  private void str(String ascii) throws IOException {
    str(ascii.getBytes(StandardCharsets.US_ASCII));
  }

  /** Opens the node for {@code path}: magic for the root, else the entry header. */
  private void begin(NarPath path) throws IOException {
    if (finished) {
      throw new IllegalStateException("NAR already complete; unexpected node '" + path + "'");
    }
    if (path.isRoot()) {
      if (started) {
        throw new IllegalStateException("second root node in NAR");
      }
      started = true;
      str(NarReader.MAGIC);
    } else {
      OpenDir dir = open.peek();
      if (dir == null || !dir.path.equals(path.parent())) {
        throw new IllegalStateException("node '" + path + "' is not a child of the open directory");
      }
      byte[] name = path.name();
      if (dir.lastName != null && Arrays.compareUnsigned(dir.lastName, name) >= 0) {
        throw new IllegalStateException("entry '" + path + "' is not in strictly sorted order");
      }
      dir.lastName = name;
      str("entry");
      str("(");
      str("name");
      str(name);
      str("node");
    }
    str("(");
    str("type");
  }

  /** Closes the node for {@code path}: the node's ")" and, below the root, the entry's ")". */
  private void end(NarPath path) throws IOException {
    str(")");
    if (!path.isRoot()) {
      str(")");
    } else {
      finished = true;
      out.flush();
    }
  }

  @Override
  public void directory(NarPath path) throws IOException {
    begin(path);
    str("directory");
    open.push(new OpenDir(path));
  }

  @Override
  public void endDirectory(NarPath path) throws IOException {
    OpenDir dir = open.peek();
    if (dir == null || !dir.path.equals(path)) {
      throw new IllegalStateException("endDirectory('" + path + "') does not match the open one");
    }
    open.pop();
    end(path);
  }

  @Override
  public void regularFile(NarPath path, boolean executable, long size, InputStream contents)
      throws IOException {
    begin(path);
    str("regular");
    if (executable) {
      str("executable");
      str("");
    }
    str("contents");
    writeU64(size);
    long left = size;
    while (left > 0) {
      int n = contents.read(copyBuf, 0, (int) Math.min(copyBuf.length, left));
      if (n < 0) {
        throw new IOException(
            "contents of '" + path + "' ended " + left + " bytes short of " + size + " (changed?)");
      }
      out.write(copyBuf, 0, n);
      left -= n;
    }
    written += size;
    if (contents.read() >= 0) {
      throw new IOException("contents of '" + path + "' are longer than " + size + " (changed?)");
    }
    pad(size);
    end(path);
  }

  /**
   * A regular file read from {@code src} (positions 0 to {@code size}); when writing to a file or
   * pipe the bytes are moved in the kernel (sendfile/copy_file_range) without passing the heap.
   */
  public void regularFile(NarPath path, boolean executable, long size, FileChannel src)
      throws IOException {
    if (channel == null) {
      regularFile(path, executable, size, Channels.newInputStream(src.position(0)));
      return;
    }
    begin(path);
    str("regular");
    if (executable) {
      str("executable");
      str("");
    }
    str("contents");
    writeU64(size);
    out.flush();
    long pos = 0;
    while (pos < size) {
      long n = src.transferTo(pos, size - pos, channel);
      if (n <= 0) {
        throw new IOException(
            "contents of '"
                + path
                + "' ended "
                + (size - pos)
                + " bytes short of "
                + size
                + " (changed?)");
      }
      pos += n;
    }
    written += size;
    if (src.size() != size) {
      throw new IOException("contents of '" + path + "' changed size while being read");
    }
    pad(size);
    end(path);
  }

  /** A regular file whose contents are in memory. */
  public void regularFile(NarPath path, boolean executable, byte[] contents) throws IOException {
    regularFile(path, executable, contents.length, new java.io.ByteArrayInputStream(contents));
  }

  @Override
  public void symlink(NarPath path, String target) throws IOException {
    symlink(path, target.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void symlink(NarPath path, byte[] target) throws IOException {
    String bad = NarNames.targetProblem(target);
    if (bad != null) {
      throw new IllegalArgumentException(bad + " at '" + path + "'");
    }
    begin(path);
    str("symlink");
    str("target");
    str(target);
    end(path);
  }

  /** True once the root node is complete. */
  public boolean isComplete() {
    return finished;
  }

  /** Flushes; the underlying stream stays open. */
  @Override
  public void close() throws IOException {
    out.flush();
  }
}
