package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Serializes the NAR a manifest describes (Nix's {@code nix-archive-1} format: every token is a
 * string framed as a little-endian u64 length, the bytes, and zero padding to 8 bytes). Rebuilding
 * the NAR and hashing it against NarHash is the end-to-end check of manifest plus chunks.
 */
public final class ManifestNarWriter {
  private final OutputStream out;
  private final byte[] pad = new byte[8];
  private long written;

  private ManifestNarWriter(OutputStream out) {
    this.out = out;
  }

  /**
   * Writes the NAR of {@code m} to {@code out}, taking file data from {@code chunks}; returns its
   * size.
   */
  public static long write(Manifest m, ChunkProvider chunks, OutputStream out) throws IOException {
    ManifestNarWriter w = new ManifestNarWriter(out);
    w.str("nix-archive-1");
    Deque<String> open = new ArrayDeque<>();
    boolean first = true;
    for (ManifestEntry e : m.entries()) {
      if (!first) {
        String parent = ManifestPaths.parent(e.path());
        while (!open.peek().equals(parent)) {
          open.pop();
          w.str(")"); // directory node
          w.str(")"); // its entry
        }
        w.str("entry");
        w.str("(");
        w.str("name");
        w.str(ManifestPaths.name(e.path()));
        w.str("node");
      }
      first = false;
      w.str("(");
      w.str("type");
      switch (e) {
        case ManifestEntry.Directory d -> {
          w.str("directory");
          open.push(d.path());
          continue;
        }
        case ManifestEntry.Symlink s -> {
          w.str("symlink");
          w.str("target");
          w.str(s.target());
        }
        case ManifestEntry.InlineFile f -> {
          w.regularHeader(f.executable());
          byte[] data = f.data();
          w.u64(data.length);
          w.raw(data, data.length);
          w.padTo(data.length);
        }
        case ManifestEntry.ChunkedFile f -> {
          w.regularHeader(f.executable());
          w.u64(f.size());
          for (int i = 0; i < f.digests().size(); i++) {
            ChunkDigest d = f.digests().get(i);
            int len = f.chunkLength(i);
            byte[] data = chunks.chunk(d, len);
            if (data.length != len) {
              throw new IOException(
                  "chunk " + d + " of " + f.path() + " has " + data.length + " bytes, want " + len);
            }
            w.raw(data, len);
          }
          w.padTo(f.size());
        }
      }
      w.str(")");
      if (!open.isEmpty()) {
        w.str(")"); // entry
      }
    }
    while (!open.isEmpty()) {
      String dir = open.pop();
      w.str(")");
      if (!dir.equals("/")) {
        w.str(")");
      }
    }
    return w.written;
  }

  private void regularHeader(boolean executable) throws IOException {
    str("regular");
    if (executable) {
      str("executable");
      str("");
    }
    str("contents");
  }

  private void str(String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    u64(b.length);
    raw(b, b.length);
    padTo(b.length);
  }

  private void u64(long v) throws IOException {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    raw(b, 8);
  }

  private void raw(byte[] b, int len) throws IOException {
    out.write(b, 0, len);
    written += len;
  }

  private void padTo(long len) throws IOException {
    int p = (int) ((8 - (len & 7)) & 7);
    if (p > 0) {
      raw(pad, p);
    }
  }
}
