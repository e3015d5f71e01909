package dev.styx.erofs;

import java.nio.charset.StandardCharsets;

/**
 * One entry of the image's device table (erofs_fs.h {@code struct erofs_deviceslot}, 128 bytes:
 * tag[64] @0, blocks_lo u32 @64): an extra device such as a slab file, with a tag that names it and
 * its size in 4 KiB blocks (a sparse 1 TiB slab is {@code 1L << 28}).
 */
public record ErofsDevice(String tag, long blocks) {
  /** Size of the on-disk tag field in bytes. */
  public static final int MAX_TAG_BYTES = 64;

  public ErofsDevice {
    if (tag.getBytes(StandardCharsets.UTF_8).length > MAX_TAG_BYTES) {
      throw new IllegalArgumentException(
          "device tag longer than " + MAX_TAG_BYTES + " bytes: " + tag);
    }
    if (tag.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("device tag contains NUL: " + tag);
    }
    if (blocks < 0 || blocks > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("device block count " + blocks + " out of u32 range");
    }
  }
}
