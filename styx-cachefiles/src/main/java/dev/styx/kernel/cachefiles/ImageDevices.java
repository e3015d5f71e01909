package dev.styx.kernel.cachefiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the device tags of an EROFS image (erofs_fs.h): superblock at byte 1024 with magic
 * 0xE0F5E1E2 @0, extra_devices u16 @86, devt_slotoff u16 @88; device slot {@code i} at {@code
 * (devt_slotoff + i) * 128} with tag[64] @0. In fscache mode these tags are the slab cookie keys.
 */
final class ImageDevices {
  private static final int SUPER = 1024;
  private static final int MAGIC = 0xE0F5E1E2;
  private static final int SLOT = 128;
  private static final int TAG = 64;

  private ImageDevices() {}

  /** The tags of the image's extra devices, in device order (device 1 first). */
  static List<String> tags(Path image) throws IOException {
    try (FileChannel ch = FileChannel.open(image, StandardOpenOption.READ)) {
      ByteBuffer sb = read(ch, SUPER, 128, image);
      if (sb.getInt(0) != MAGIC) {
        throw new IOException(image + " is not an EROFS image (bad superblock magic)");
      }
      int n = Short.toUnsignedInt(sb.getShort(86));
      long slotoff = Short.toUnsignedInt(sb.getShort(88));
      List<String> tags = new ArrayList<>(n);
      if (n == 0) {
        return tags;
      }
      ByteBuffer t = read(ch, slotoff * SLOT, n * SLOT, image);
      for (int i = 0; i < n; i++) {
        byte[] tag = new byte[TAG];
        t.get(i * SLOT, tag);
        int len = 0;
        while (len < TAG && tag[len] != 0) {
          len++;
        }
        tags.add(new String(tag, 0, len, StandardCharsets.UTF_8));
      }
      return tags;
    }
  }

  private static ByteBuffer read(FileChannel ch, long pos, int len, Path image) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new IOException(image + ": truncated EROFS image (device table)");
      }
    }
    return b.flip();
  }
}
