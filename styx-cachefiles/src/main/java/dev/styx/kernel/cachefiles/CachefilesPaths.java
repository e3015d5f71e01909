package dev.styx.kernel.cachefiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where cachefiles keeps an EROFS cookie's data inside the cache directory, for short printable
 * keys: {@code cache/I<volume>/@<hash & 0xff, two hex digits>/D<cookie>} with volume {@code
 * "erofs,<domain>"} (fs/erofs/fscache.c {@code erofs_fscache_register_volume}). The hash is
 * fscache's ({@code fs/fscache/main.c} {@code fscache_hash}, {@code volume.c} and {@code cookie.c}
 * key layouts). Used to read a slab's backing file directly (benchmarks, checks), never to write.
 */
public final class CachefilesPaths {
  private static final int GOLDEN_RATIO_32 = 0x61C88647;

  private CachefilesPaths() {}

  /** The backing file of cookie {@code cookie} in domain {@code domain} under {@code cacheDir}. */
  public static Path backingFile(Path cacheDir, String domain, String cookie) {
    String volume = "erofs," + domain;
    int h = cookieHash(volumeHash(volume), cookie);
    return cacheDir
        .resolve("cache")
        .resolve("I" + volume)
        .resolve(String.format("@%02x", h & 0xff))
        .resolve("D" + cookie);
  }

  /**
   * fscache_alloc_volume: key = [len u8][volume bytes][NUL], zero-padded to a multiple of 4, hashed
   * with salt 0.
   */
  static int volumeHash(String volume) {
    byte[] v = volume.getBytes(StandardCharsets.UTF_8);
    if (v.length > 254) {
      throw new IllegalArgumentException("volume key too long: " + volume);
    }
    byte[] key = new byte[(1 + v.length + 1 + 3) & ~3];
    key[0] = (byte) v.length;
    System.arraycopy(v, 0, key, 1, v.length);
    return hash(0, key);
  }

  /** fscache_set_key: the cookie key zero-padded to a multiple of 4, salted by the volume hash. */
  static int cookieHash(int volumeHash, String cookie) {
    byte[] c = cookie.getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[(c.length + 3) & ~3];
    System.arraycopy(c, 0, key, 0, c.length);
    return hash(volumeHash, key);
  }

  /** fscache_hash: HASH_MIX over little-endian u32 words, then fold_hash. */
  static int hash(int salt, byte[] data) {
    int x = 0;
    int y = salt;
    for (int i = 0; i + 4 <= data.length; i += 4) {
      int a =
          (data[i] & 0xff)
              | (data[i + 1] & 0xff) << 8
              | (data[i + 2] & 0xff) << 16
              | (data[i + 3] & 0xff) << 24;
      x ^= a;
      y ^= x;
      x = Integer.rotateLeft(x, 7);
      x += y;
      y = Integer.rotateLeft(y, 20);
      y *= 9;
    }
    return (y ^ (x * GOLDEN_RATIO_32)) * GOLDEN_RATIO_32;
  }
}
