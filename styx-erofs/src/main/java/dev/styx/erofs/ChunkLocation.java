package dev.styx.erofs;

/**
 * Where one chunk of a chunk-based file lives: {@code device} 1..n is extra device n (a slab) of
 * the image's device table, 0 the image itself; {@code blockAddress} is the 4 KiB block inside that
 * device (erofs_fs.h {@code struct erofs_inode_chunk_index}: device_id u16 @2, startblk_lo u32 @4).
 */
public record ChunkLocation(int device, long blockAddress) {
  /** {@code EROFS_NULL_ADDR}: an unplaced chunk (a hole); only the reader produces it. */
  public static final long NULL_ADDR = 0xFFFF_FFFFL;

  public ChunkLocation {
    if (device < 0 || device > 0xFFFF) {
      throw new IllegalArgumentException("chunk device " + device + " out of range 0..65535");
    }
    if (blockAddress < 0 || blockAddress > NULL_ADDR) {
      throw new IllegalArgumentException("chunk block address " + blockAddress + " out of range");
    }
  }

  /** Whether this is the kernel's hole marker rather than a real block. */
  public boolean isHole() {
    return blockAddress == NULL_ADDR;
  }
}
