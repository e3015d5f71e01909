package dev.styx.kernel.cachefiles;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of the cachefiles backend.
 *
 * @param cacheDir the cachefiles cache directory ({@code dir}); must be on ext4, xfs or btrfs
 * @param tag the cache tag ({@code tag}), shown in the kernel's messages
 * @param domain the EROFS {@code domain_id}: all images of this daemon share their slab cookies
 *     through it (and their cache files under {@code cache/Ierofs,<domain>})
 * @param workers platform threads answering requests (fills block on the network)
 * @param slabWait how long a READ of a slab waits for {@code attachSlab} after a restart before it
 *     fails with EIO
 */
public record CachefilesOptions(
    Path cacheDir, String tag, String domain, int workers, Duration slabWait) {

  /** Default cache directory. */
  public static final Path DEFAULT_DIR = Path.of("/var/cache/styx/cachefiles");

  public CachefilesOptions {
    if (cacheDir == null) {
      throw new IllegalArgumentException("cachefiles needs a cache directory");
    }
    checkWord("tag", tag);
    checkWord("domain", domain);
    if (workers < 1) {
      throw new IllegalArgumentException("cachefiles workers must be >= 1");
    }
  }

  /** The settings with {@code cacheDir}, tag "styx0", domain "styx", 16 workers. */
  public static CachefilesOptions defaults(Path cacheDir) {
    return new CachefilesOptions(cacheDir, "styx0", "styx", 16, Duration.ofSeconds(60));
  }

  /**
   * Defaults overridden by {@code STYX_CACHEFILES_DIR}, {@code STYX_CACHEFILES_DOMAIN}, {@code
   * STYX_CACHEFILES_TAG} (how the daemon's {@code --backend cachefiles} is configured until it
   * grows flags of its own).
   */
  public static CachefilesOptions fromEnvironment() {
    String dir = System.getenv("STYX_CACHEFILES_DIR");
    CachefilesOptions d = defaults(dir == null || dir.isEmpty() ? DEFAULT_DIR : Path.of(dir));
    String domain = System.getenv().getOrDefault("STYX_CACHEFILES_DOMAIN", d.domain());
    String tag = System.getenv().getOrDefault("STYX_CACHEFILES_TAG", d.tag());
    return new CachefilesOptions(d.cacheDir(), tag, domain, d.workers(), d.slabWait());
  }

  /** These settings with another domain. */
  public CachefilesOptions withDomain(String d) {
    return new CachefilesOptions(cacheDir, tag, d, workers, slabWait);
  }

  // Both end up in devnode commands and mount options: no separators, no spaces.
  private static void checkWord(String what, String v) {
    if (v == null || v.isEmpty() || v.length() > 64 || !v.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "cachefiles " + what + " must be 1..64 of [A-Za-z0-9._-]: " + v);
    }
  }
}
