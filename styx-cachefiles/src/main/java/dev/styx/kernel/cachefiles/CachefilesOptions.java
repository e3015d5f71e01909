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
 * @param readAheadKb the read-ahead window of each mount's bdi in KiB (0: the kernel's 128); a
 *     larger window means fewer, larger READs when fetching and fewer, larger cache-file reads when
 *     the data is local
 */
public record CachefilesOptions(
    Path cacheDir, String tag, String domain, int workers, Duration slabWait, int readAheadKb) {

  /** Default cache directory. */
  public static final Path DEFAULT_DIR = Path.of("/var/cache/styx/cachefiles");

  public CachefilesOptions {
    if (cacheDir == null) {
      throw new IllegalArgumentException("cachefiles needs a cache directory");
    }
    checkWord("tag", tag);
    checkWord("domain", domain);
    if (readAheadKb < 0 || readAheadKb > 65536) {
      throw new IllegalArgumentException("cachefiles read-ahead must be 0..65536 KiB");
    }
    if (workers < 1) {
      throw new IllegalArgumentException("cachefiles workers must be >= 1");
    }
  }

  /** The settings with {@code cacheDir}, tag "styx0", domain "styx", 16 workers. */
  public static CachefilesOptions defaults(Path cacheDir) {
    return new CachefilesOptions(cacheDir, "styx0", "styx", 16, Duration.ofSeconds(60), 1024);
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
    return new CachefilesOptions(
        d.cacheDir(), tag, domain, d.workers(), d.slabWait(), d.readAheadKb());
  }

  /** These settings with another domain. */
  public CachefilesOptions withDomain(String d) {
    return new CachefilesOptions(cacheDir, tag, d, workers, slabWait, readAheadKb);
  }

  /** These settings with another read-ahead window. */
  public CachefilesOptions withReadAheadKb(int kb) {
    return new CachefilesOptions(cacheDir, tag, domain, workers, slabWait, kb);
  }

  // Both end up in devnode commands and mount options: no separators, no spaces.
  private static void checkWord(String what, String v) {
    if (v == null || v.isEmpty() || v.length() > 64 || !v.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException(
          "cachefiles " + what + " must be 1..64 of [A-Za-z0-9._-]: " + v);
    }
  }
}
