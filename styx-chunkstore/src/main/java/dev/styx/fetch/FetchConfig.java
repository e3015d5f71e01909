package dev.styx.fetch;

import java.net.URI;
import java.time.Duration;

/**
 * How to reach a chunk server.
 *
 * @param chunks base URL of the chunk tree: chunks are at {@code <chunks>/chunk/<hex>}
 * @param concurrency most HTTP requests in flight at once (across all callers)
 * @param connectTimeout TCP connect timeout
 * @param requestTimeout time limit of one HTTP exchange (also capped by the caller's deadline)
 * @param attempts tries per request, at least 1 (retries only network errors, 5xx, bad bodies)
 * @param backoff delay before the first retry; doubles per retry, with jitter
 * @param batchChunks most chunks per {@code POST /chunks} batch; 1 disables batching
 * @param batchBytes most uncompressed bytes per batch
 * @param batchBelow only chunks smaller than this are batched: a batch makes the server decode and
 *     re-encode its chunks, which pays for small chunks (fewer round trips) but not for large ones,
 *     whose stored objects a single GET streams as they are
 */
public record FetchConfig(
    URI chunks,
    int concurrency,
    Duration connectTimeout,
    Duration requestTimeout,
    int attempts,
    Duration backoff,
    int batchChunks,
    long batchBytes,
    int batchBelow) {

  public FetchConfig {
    String scheme = chunks.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException("chunk URL must be http(s)://: " + chunks);
    }
    if (concurrency < 1 || attempts < 1 || batchChunks < 1 || batchBytes < 1) {
      throw new IllegalArgumentException("fetch limits must be positive");
    }
  }

  /**
   * Defaults: 16 requests in flight, 5 s connect, 30 s per request, 4 attempts, 64-chunk batches.
   */
  public static FetchConfig defaults(URI chunks) {
    return new FetchConfig(
        chunks,
        16,
        Duration.ofSeconds(5),
        Duration.ofSeconds(30),
        4,
        Duration.ofMillis(100),
        64,
        8L << 20,
        32 << 10);
  }

  public FetchConfig withConcurrency(int n) {
    return new FetchConfig(
        chunks,
        n,
        connectTimeout,
        requestTimeout,
        attempts,
        backoff,
        batchChunks,
        batchBytes,
        batchBelow);
  }

  public FetchConfig withBatchChunks(int n) {
    return new FetchConfig(
        chunks,
        concurrency,
        connectTimeout,
        requestTimeout,
        attempts,
        backoff,
        n,
        batchBytes,
        batchBelow);
  }

  public FetchConfig withTimeouts(Duration connect, Duration request, int attempts) {
    return new FetchConfig(
        chunks,
        concurrency,
        connect,
        request,
        attempts,
        backoff,
        batchChunks,
        batchBytes,
        batchBelow);
  }

  public FetchConfig withBatchBelow(int bytes) {
    return new FetchConfig(
        chunks,
        concurrency,
        connectTimeout,
        requestTimeout,
        attempts,
        backoff,
        batchChunks,
        batchBytes,
        bytes);
  }

  /** The URL of one chunk object. */
  public URI chunkUri(String hex) {
    return base().resolve("chunk/" + hex);
  }

  /** The URL of the batch route. */
  public URI batchUri() {
    return base().resolve("chunks");
  }

  private URI base() {
    String s = chunks.toString();
    return URI.create(s.endsWith("/") ? s : s + "/");
  }
}
