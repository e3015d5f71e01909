package dev.styx.chunk;

/**
 * The fixed-size chunking policy of ARCHITECTURE.md "Formats": chunks are aligned to the start of
 * each file; 64 KiB chunks for files up to 16 MiB, 256 KiB up to 64 MiB, 1 MiB above. The last
 * chunk holds the remainder and is never empty. Files up to {@link #INLINE_MAX} bytes (and all
 * symlinks) are inline in the manifest instead.
 */
public final class ChunkPolicy {
  private ChunkPolicy() {}

  /** Largest regular file carried inline in a manifest (bytes). */
  public static final int INLINE_MAX = 224;

  public static final int SHIFT_64K = 16;
  public static final int SHIFT_256K = 18;
  public static final int SHIFT_1M = 20;

  /** log2 of the chunk size for a file of {@code fileSize} bytes. */
  public static int chunkShift(long fileSize) {
    if (fileSize < 0) {
      throw new IllegalArgumentException("negative file size " + fileSize);
    }
    if (fileSize <= 16L << 20) {
      return SHIFT_64K;
    }
    if (fileSize <= 64L << 20) {
      return SHIFT_256K;
    }
    return SHIFT_1M;
  }

  /** Chunk size in bytes for a file of {@code fileSize} bytes. */
  public static int chunkSize(long fileSize) {
    return 1 << chunkShift(fileSize);
  }

  /** Number of chunks of a file (0 for an empty file). */
  public static long chunkCount(long fileSize) {
    int shift = chunkShift(fileSize);
    return (fileSize + (1L << shift) - 1) >>> shift;
  }

  /** Length of chunk {@code index} of a file of {@code fileSize} bytes. */
  public static int chunkLength(long fileSize, long index) {
    int shift = chunkShift(fileSize);
    long start = index << shift;
    if (index < 0 || start >= fileSize) {
      throw new IndexOutOfBoundsException("chunk " + index + " of a " + fileSize + "-byte file");
    }
    return (int) Math.min(1L << shift, fileSize - start);
  }

  /** Whether a regular file of this size is inline in the manifest. */
  public static boolean isInline(long fileSize) {
    return fileSize <= INLINE_MAX;
  }
}
