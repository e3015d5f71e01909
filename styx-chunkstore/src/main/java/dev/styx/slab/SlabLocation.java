package dev.styx.slab;

/**
 * Where a chunk lives: slab id, first 4 KiB block inside the slab, and the chunk's length in bytes.
 * Chunks start block-aligned and occupy {@link #blocks()} whole blocks (the tail is zero-padded),
 * which is what an EROFS chunk index entry (device, blkaddr) can address.
 */
public record SlabLocation(int slab, long block, int length) {
  /** EROFS block size used for every image and slab. */
  public static final int BLOCK_SIZE = 4096;

  public static final int BLOCK_SHIFT = 12;

  /** Blocks per slab: 2^28 blocks of 4 KiB = a 1 TiB virtual slab (EROFS blkaddr is u32). */
  public static final long SLAB_BLOCKS = 1L << 28;

  public SlabLocation {
    if (slab < 0 || block < 0 || length <= 0 || block + blocksFor(length) > SLAB_BLOCKS) {
      throw new IllegalArgumentException(
          "bad slab location: slab " + slab + " block " + block + " length " + length);
    }
  }

  /** Whole blocks needed for {@code length} bytes. */
  public static long blocksFor(long length) {
    return (length + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
  }

  /** Byte offset of the chunk in its slab file. */
  public long offset() {
    return block << BLOCK_SHIFT;
  }

  /** Whole blocks the chunk occupies. */
  public long blocks() {
    return blocksFor(length);
  }

  /** Whether byte {@code off} of this slab falls in the chunk's blocks. */
  public boolean covers(long off) {
    return off >= offset() && off < offset() + (blocks() << BLOCK_SHIFT);
  }
}
