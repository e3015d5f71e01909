package dev.styx.erofs;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

/**
 * A whole image as a value: the root directory, the device table (entry {@code i} is device {@code
 * i + 1} in {@link ChunkLocation}), and the superblock's uuid and volume name (at most 16 bytes).
 */
public record ErofsImage(
    ErofsNode.Directory root, List<ErofsDevice> devices, UUID uuid, String volumeName) {

  /**
   * Longest volume name: the superblock field volume_name[16] @64 must hold a NUL terminator, or
   * Linux 6.12 refuses the mount ("bad volume name without NIL terminator", EFSCORRUPTED); newer
   * kernels stopped checking, so only an older kernel catches a 16-byte name.
   */
  public static final int MAX_VOLUME_NAME_BYTES = 15;

  public ErofsImage {
    devices = List.copyOf(devices);
    if (uuid == null) {
      uuid = new UUID(0, 0);
    }
    if (volumeName == null) {
      volumeName = "";
    }
    if (volumeName.getBytes(StandardCharsets.UTF_8).length > MAX_VOLUME_NAME_BYTES
        || volumeName.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("bad volume name: " + volumeName);
    }
  }

  /** An image with a zero uuid and no volume name. */
  public ErofsImage(ErofsNode.Directory root, List<ErofsDevice> devices) {
    this(root, devices, null, null);
  }
}
