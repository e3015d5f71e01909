package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import java.util.Arrays;
import java.util.List;

/**
 * One node of a store path's tree, in NAR order. Paths are {@code "/"} for the root and {@code
 * "/a/b"} below it (the NAR's own naming, no store path prefix).
 */
public sealed interface ManifestEntry
    permits ManifestEntry.Directory,
        ManifestEntry.InlineFile,
        ManifestEntry.ChunkedFile,
        ManifestEntry.Symlink {

  /** The entry's path inside the store path: {@code "/"} or {@code "/name/..."}. */
  String path();

  /** A directory; its children follow it in NAR order. */
  record Directory(String path) implements ManifestEntry {
    public Directory {
      ManifestPaths.check(path);
    }
  }

  /** A regular file of at most {@link ChunkPolicy#INLINE_MAX} bytes, carried in the manifest. */
  record InlineFile(String path, boolean executable, byte[] data) implements ManifestEntry {
    public InlineFile {
      ManifestPaths.check(path);
      if (data.length > ChunkPolicy.INLINE_MAX) {
        throw new IllegalArgumentException(
            "inline file "
                + path
                + " has "
                + data.length
                + " bytes (max "
                + ChunkPolicy.INLINE_MAX
                + ")");
      }
      data = data.clone();
    }

    public long size() {
      return data.length;
    }

    @Override
    public byte[] data() {
      return data.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof InlineFile f
          && f.path.equals(path)
          && f.executable == executable
          && Arrays.equals(f.data, data);
    }

    @Override
    public int hashCode() {
      return path.hashCode() * 31 + Arrays.hashCode(data) + (executable ? 1 : 0);
    }
  }

  /**
   * A regular file cut into chunks of {@code 1 << chunkShift} bytes aligned to its start; the last
   * chunk holds the remainder. {@code digests} has exactly one digest per chunk.
   */
  record ChunkedFile(
      String path, boolean executable, long size, int chunkShift, List<ChunkDigest> digests)
      implements ManifestEntry {
    /** Smallest and largest chunk shift a manifest may carry (4 KiB .. 16 MiB). */
    public static final int MIN_SHIFT = 12;

    public static final int MAX_SHIFT = 24;

    public ChunkedFile {
      ManifestPaths.check(path);
      if (size <= ChunkPolicy.INLINE_MAX) {
        throw new IllegalArgumentException(
            "chunked file "
                + path
                + " has "
                + size
                + " bytes; files <= "
                + ChunkPolicy.INLINE_MAX
                + " are inline");
      }
      if (chunkShift < MIN_SHIFT || chunkShift > MAX_SHIFT) {
        throw new IllegalArgumentException(
            "chunk shift " + chunkShift + " out of range for " + path);
      }
      long n = chunkCount(size, chunkShift);
      if (digests.size() != n) {
        throw new IllegalArgumentException(
            path
                + ": "
                + size
                + " bytes in 2^"
                + chunkShift
                + " chunks needs "
                + n
                + " digests, got "
                + digests.size());
      }
      digests = List.copyOf(digests);
    }

    /** Number of chunks of a file of {@code size} bytes cut at {@code 1 << shift}. */
    public static long chunkCount(long size, int shift) {
      return (size + (1L << shift) - 1) >>> shift;
    }

    public int chunkSize() {
      return 1 << chunkShift;
    }

    /** File offset of chunk {@code i}. */
    public long chunkOffset(int i) {
      return (long) i << chunkShift;
    }

    /** Length of chunk {@code i}: full size except the last, which is {@code size - (n-1)*C}. */
    public int chunkLength(int i) {
      if (i < 0 || i >= digests.size()) {
        throw new IndexOutOfBoundsException("chunk " + i + " of " + path);
      }
      return (int) Math.min(1L << chunkShift, size - chunkOffset(i));
    }
  }

  /** A symbolic link; the target is carried in the manifest. */
  record Symlink(String path, String target) implements ManifestEntry {
    public Symlink {
      ManifestPaths.check(path);
      if (target.isEmpty() || target.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("bad symlink target for " + path);
      }
    }
  }
}
