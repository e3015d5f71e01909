package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import dev.styx.hash.Sha256;
import dev.styx.nar.NarReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Builds a {@link Manifest} from the entries of a NAR, in NAR order, cutting regular files into
 * chunks by {@link ChunkPolicy} and handing each chunk to a {@link ChunkConsumer}. Files up to
 * {@link ChunkPolicy#INLINE_MAX} bytes and symlinks are inline. Structural checks (order, names)
 * happen in {@link Manifest}'s constructor.
 */
public final class ManifestBuilder {
  private final ChunkConsumer sink;
  private final List<Object> pending = new ArrayList<>();
  private long fileBytes;
  private long chunks;

  /** Hashes chunks read from a NAR reader (reset by each digest). */
  private Sha256 chunkHash;

  public ManifestBuilder(ChunkConsumer sink) {
    this.sink = sink;
  }

  /** A chunked file whose digests may still be computing. */
  private record PendingFile(
      String path, boolean executable, long size, int shift, List<Future<ChunkDigest>> digests) {}

  public void directory(String path) {
    pending.add(new ManifestEntry.Directory(path));
  }

  public void symlink(String path, String target) {
    pending.add(new ManifestEntry.Symlink(path, target));
  }

  /** Reads exactly {@code size} bytes of a regular file from {@code in}. */
  public void regularFile(String path, boolean executable, long size, InputStream in)
      throws IOException {
    ManifestPaths.check(path);
    fileBytes += size;
    if (ChunkPolicy.isInline(size)) {
      byte[] data = in.readNBytes((int) size);
      if (data.length != size) {
        throw new EOFException(
            "file " + path + " ended after " + data.length + " of " + size + " bytes");
      }
      pending.add(new ManifestEntry.InlineFile(path, executable, data));
      return;
    }
    int shift = ChunkPolicy.chunkShift(size);
    long n = ChunkPolicy.chunkCount(size);
    List<Future<ChunkDigest>> ds = new ArrayList<>((int) n);
    // Straight from a NAR reader, each chunk is hashed as it is read, in one pass with the NarHash.
    NarReader.Contents nar = in instanceof NarReader.Contents c && Sha256.available() ? c : null;
    if (nar != null && chunkHash == null) {
      chunkHash = Sha256.create();
    }
    for (long i = 0; i < n; i++) {
      int len = ChunkPolicy.chunkLength(size, i);
      byte[] buf = sink.buffer(len);
      for (int off = 0; off < len; ) {
        int got =
            nar != null
                ? nar.readHashing(buf, off, len - off, chunkHash)
                : in.read(buf, off, len - off);
        if (got < 0) {
          throw new EOFException("file " + path + " ended early in chunk " + i);
        }
        off += got;
      }
      ds.add(
          nar != null
              ? sink.accept(buf, len, new ChunkDigest(chunkHash.digest()))
              : sink.accept(buf, len));
      chunks++;
    }
    pending.add(new PendingFile(path, executable, size, shift, ds));
  }

  /** Bytes of regular files seen so far. */
  public long fileBytes() {
    return fileBytes;
  }

  /** Chunks handed to the sink so far. */
  public long chunks() {
    return chunks;
  }

  /** Waits for every chunk digest and returns the manifest. */
  public Manifest build(String storePath, String narHash, long narSize, List<String> references)
      throws IOException, InterruptedException {
    sink.flush();
    List<ManifestEntry> entries = new ArrayList<>(pending.size());
    for (Object o : pending) {
      if (o instanceof PendingFile f) {
        List<ChunkDigest> ds = new ArrayList<>(f.digests().size());
        for (Future<ChunkDigest> d : f.digests()) {
          ds.add(await(d));
        }
        entries.add(
            new ManifestEntry.ChunkedFile(f.path(), f.executable(), f.size(), f.shift(), ds));
      } else {
        entries.add((ManifestEntry) o);
      }
    }
    return new Manifest(storePath, narHash, narSize, references, entries);
  }

  /**
   * After a failure: cancels chunk work still queued and waits for chunk writes in progress, so
   * nothing of this ingest is written after it returns.
   */
  public void cancel() {
    for (Object o : pending) {
      if (o instanceof PendingFile f) {
        for (Future<ChunkDigest> d : f.digests()) {
          d.cancel(false);
        }
      }
    }
    sink.abort();
  }

  private static ChunkDigest await(Future<ChunkDigest> f) throws IOException, InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("chunk processing failed: " + e.getCause(), e.getCause());
    }
  }

  /** A sink that only hashes, on the calling thread (tests, dry runs). */
  public static ChunkConsumer hashingSink() {
    return (buf, len) -> CompletableFuture.completedFuture(ChunkDigest.of(buf, 0, len));
  }
}
