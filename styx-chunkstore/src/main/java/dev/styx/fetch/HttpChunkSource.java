package dev.styx.fetch;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import dev.styx.slab.ChunkDigestMismatchException;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.VerifiedChunk;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches chunks over HTTP from a chunk tree ({@code GET <base>/chunk/<hex>}, a zstd frame per
 * chunk, as any static server can serve) and, when the server offers it, in batches ({@code POST
 * <base>/chunks {"digests":[hex...]}}, one zstd frame of the chunks concatenated, lengths in {@code
 * X-Styx-Lengths}). A server without the batch route is detected once and then only asked for
 * single chunks. Connections are pooled by the JDK client (HTTP/1.1 over http, HTTP/2 over https);
 * at most {@link FetchConfig#concurrency()} requests are in flight; network errors, 5xx answers and
 * bad bodies are retried with doubling backoff, within the caller's deadline.
 */
public final class HttpChunkSource implements ChunkSource, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpChunkSource.class);
  private static final String LENGTHS_HEADER = "X-Styx-Lengths";
  private static final int ZSTD_MAGIC = 0xFD2FB528;

  private final FetchConfig config;
  private final HttpClient http;
  private final ExecutorService httpExecutor;
  private final Semaphore permits;
  private final FetchStats stats;
  private volatile boolean batchRoute = true;

  public HttpChunkSource(FetchConfig config, FetchStats stats) {
    this.config = config;
    this.stats = stats;
    this.permits = new Semaphore(config.concurrency(), true);
    this.httpExecutor = Executors.newVirtualThreadPerTaskExecutor();
    this.http =
        HttpClient.newBuilder()
            .version(
                "https".equals(config.chunks().getScheme())
                    ? HttpClient.Version.HTTP_2
                    : HttpClient.Version.HTTP_1_1)
            .connectTimeout(config.connectTimeout())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .executor(httpExecutor)
            .build();
  }

  public FetchConfig config() {
    return config;
  }

  public FetchStats stats() {
    return stats;
  }

  @Override
  public void fetch(List<ChunkRef> chunks, ChunkSink sink, Instant deadline) throws IOException {
    List<List<ChunkRef>> groups = group(chunks);
    if (groups.size() == 1) {
      fetchGroup(groups.getFirst(), sink, deadline);
      return;
    }
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fs = new ArrayList<>(groups.size());
      for (List<ChunkRef> g : groups) {
        fs.add(
            ex.submit(
                () -> {
                  fetchGroup(g, sink, deadline);
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        try {
          f.get();
        } catch (ExecutionException e) {
          ex.shutdownNow();
          throw asIo(e.getCause());
        } catch (InterruptedException e) {
          ex.shutdownNow();
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while fetching chunks");
        }
      }
    }
  }

  private List<List<ChunkRef>> group(List<ChunkRef> chunks) {
    List<List<ChunkRef>> groups = new ArrayList<>();
    List<ChunkRef> small = new ArrayList<>();
    for (ChunkRef c : chunks) {
      if (batchRoute && config.batchChunks() > 1 && c.length() < config.batchBelow()) {
        small.add(c);
      } else {
        groups.add(List.of(c));
      }
    }
    if (small.isEmpty()) {
      return groups;
    }
    // Spread the small chunks over the available concurrency, within the batch limits.
    int per =
        Math.max(
            1,
            Math.min(
                config.batchChunks(),
                (small.size() + config.concurrency() - 1) / config.concurrency()));
    List<ChunkRef> cur = new ArrayList<>();
    long bytes = 0;
    for (ChunkRef c : small) {
      if (!cur.isEmpty() && (cur.size() >= per || bytes + c.length() > config.batchBytes())) {
        groups.add(cur);
        cur = new ArrayList<>();
        bytes = 0;
      }
      cur.add(c);
      bytes += c.length();
    }
    if (!cur.isEmpty()) {
      groups.add(cur);
    }
    return groups;
  }

  private void fetchGroup(List<ChunkRef> group, ChunkSink sink, Instant deadline)
      throws IOException {
    if (group.size() > 1 && batchRoute) {
      try {
        fetchBatch(group, sink, deadline);
        return;
      } catch (BatchUnsupported e) {
        if (batchRoute) {
          log.info("{} offers no batch route ({}); fetching single chunks", config.chunks(), e.why);
          batchRoute = false;
        }
      }
    }
    for (ChunkRef c : group) {
      fetchSingle(c, sink, deadline);
    }
  }

  private void fetchSingle(ChunkRef ref, ChunkSink sink, Instant deadline) throws IOException {
    String hex = ref.digest().hex();
    HttpRequest.Builder rb = HttpRequest.newBuilder(config.chunkUri(hex)).GET();
    VerifiedChunk chunk =
        withRetries(
            "chunk " + hex,
            deadline,
            rb,
            resp -> {
              stats.singleRequests.increment();
              byte[] body = readBody(resp, maxBody(ref.length()));
              stats.wireBytes.add(body.length);
              return VerifiedChunk.verify(ref.digest(), ref.length(), decode(body, ref.length()));
            });
    stats.chunks.increment();
    stats.bytes.add(chunk.length());
    sink.accept(chunk);
  }

  private void fetchBatch(List<ChunkRef> group, ChunkSink sink, Instant deadline)
      throws IOException {
    StringBuilder json = new StringBuilder("{\"digests\":[");
    long total = 0;
    for (int i = 0; i < group.size(); i++) {
      json.append(i == 0 ? "\"" : ",\"").append(group.get(i).digest().hex()).append('"');
      total += group.get(i).length();
    }
    json.append("]}");
    final long expected = total;
    HttpRequest.Builder rb =
        HttpRequest.newBuilder(config.batchUri())
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json.toString()));
    List<VerifiedChunk> chunks =
        withRetries(
            "batch of " + group.size() + " chunks from " + group.getFirst().digest().hex(),
            deadline,
            rb,
            resp -> {
              stats.batchRequests.increment();
              byte[] body = readBody(resp, maxBody(expected));
              stats.wireBytes.add(body.length);
              String lengths = resp.headers().firstValue(LENGTHS_HEADER).orElse(null);
              if (lengths == null) {
                throw new IOException("batch response lacks " + LENGTHS_HEADER);
              }
              String[] ls = lengths.split(",");
              if (ls.length != group.size()) {
                throw new IOException(
                    "batch response has " + ls.length + " lengths for " + group.size() + " chunks");
              }
              byte[] all = decode(body, (int) expected);
              List<VerifiedChunk> out = new ArrayList<>(group.size());
              int off = 0;
              for (int i = 0; i < group.size(); i++) {
                ChunkRef r = group.get(i);
                if (Long.parseLong(ls[i].trim()) != r.length()) {
                  throw new ChunkDigestMismatchException(
                      "chunk "
                          + r.digest().hex()
                          + ": server length "
                          + ls[i]
                          + " != "
                          + r.length());
                }
                byte[] piece = java.util.Arrays.copyOfRange(all, off, off + r.length());
                off += r.length();
                out.add(VerifiedChunk.verify(r.digest(), r.length(), piece));
              }
              return out;
            });
    for (VerifiedChunk c : chunks) {
      stats.chunks.increment();
      stats.bytes.add(c.length());
      sink.accept(c);
    }
  }

  /** Parses one response; throwing IOException means "bad body, retry". */
  private interface ResponseReader<T> {
    T read(HttpResponse<InputStream> resp) throws IOException;
  }

  /** The batch route is missing on this server (static tree, older server). */
  private static final class BatchUnsupported extends IOException {
    final String why;

    BatchUnsupported(String why) {
      super(why);
      this.why = why;
    }
  }

  private <T> T withRetries(
      String what, Instant deadline, HttpRequest.Builder rb, ResponseReader<T> reader)
      throws IOException {
    IOException last = null;
    int lastStatus = 0;
    boolean batch = rb.build().method().equals("POST");
    for (int attempt = 1; attempt <= config.attempts(); attempt++) {
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) {
        break;
      }
      if (attempt > 1) {
        stats.retries.increment();
        long base = config.backoff().toMillis() << (attempt - 2);
        long sleep = Math.min(base + ThreadLocalRandom.current().nextLong(base / 2 + 1), 5000);
        if (sleep >= left.toMillis()) {
          break;
        }
        sleepMs(sleep);
        left = Duration.between(Instant.now(), deadline);
      }
      Duration timeout =
          left.compareTo(config.requestTimeout()) < 0 ? left : config.requestTimeout();
      if (timeout.toMillis() < 1) {
        break;
      }
      HttpRequest req = rb.copy().timeout(timeout).build();
      if (!acquire(deadline)) {
        break;
      }
      try {
        HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        int status = resp.statusCode();
        lastStatus = status;
        if (status == 200) {
          try {
            return reader.read(resp);
          } catch (ChunkDigestMismatchException e) {
            stats.digestMismatches.increment();
            last = e;
            log.warn("{} from {}: {} (attempt {})", what, req.uri(), e.getMessage(), attempt);
            continue;
          } catch (IOException e) {
            last = e;
            log.warn("{} from {}: bad response: {} (attempt {})", what, req.uri(), e, attempt);
            continue;
          }
        }
        String err = errorText(resp);
        if (batch
            && (status == 405 || status == 501 || (status == 404 && err.contains("no-route")))) {
          throw new BatchUnsupported("HTTP " + status);
        }
        if (status == 404 || status == 403 || status == 410) {
          stats.errors.increment();
          throw new ChunkNotFoundException(
              what + ": not found at " + req.uri() + " (HTTP " + status + ")", status);
        }
        if (status >= 500 && status != 501) {
          last = new IOException("HTTP " + status + " " + err);
          log.warn("{} from {}: HTTP {} (attempt {})", what, req.uri(), status, attempt);
          continue;
        }
        stats.errors.increment();
        throw new FetchException(
            what + ": HTTP " + status + " from " + req.uri() + ": " + err, status, null);
      } catch (java.net.http.HttpTimeoutException e) {
        last = e;
        log.warn(
            "{} from {}: timed out after {} ms (attempt {})",
            what,
            req.uri(),
            timeout.toMillis(),
            attempt);
      } catch (BatchUnsupported | FetchException e) {
        throw e;
      } catch (IOException e) {
        last = e;
        log.warn("{} from {}: {} (attempt {})", what, req.uri(), e, attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while fetching " + what);
      } finally {
        permits.release();
      }
    }
    stats.errors.increment();
    String why = last == null ? "deadline passed" : describe(last);
    if (last instanceof ChunkDigestMismatchException) {
      throw new FetchException(what + ": " + why, lastStatus, last);
    }
    throw new FetchException(
        what + " from " + config.chunks() + " failed: " + why + " (within the fetch deadline)",
        lastStatus,
        last);
  }

  private boolean acquire(Instant deadline) throws IOException {
    try {
      long ms = Duration.between(Instant.now(), deadline).toMillis();
      return ms > 0 && permits.tryAcquire(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted waiting for a fetch slot");
    }
  }

  private static String describe(IOException e) {
    if (e instanceof java.net.ConnectException) {
      return "cannot connect ("
          + (e.getMessage() == null ? "connection refused" : e.getMessage())
          + ")";
    }
    if (e instanceof java.net.http.HttpTimeoutException) {
      return "timed out";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static String errorText(HttpResponse<InputStream> resp) {
    try (InputStream in = resp.body()) {
      byte[] b = in.readNBytes(512);
      return new String(b, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  private static long maxBody(long uncompressed) {
    // zstd's worst case plus headers: a raw (uncompressed) body of that size is allowed too.
    return uncompressed + uncompressed / 128 + 4096;
  }

  /**
   * Reads a whole body of at most {@code max} bytes: into one exact array when the server sent a
   * Content-Length (the usual case: no growing buffers, no final copy).
   */
  private static byte[] readBody(HttpResponse<InputStream> resp, long max) throws IOException {
    try (InputStream in = resp.body()) {
      long declared = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > max) {
        throw new IOException("response body of " + declared + " bytes exceeds " + max);
      }
      if (declared >= 0) {
        byte[] b = new byte[(int) declared];
        int n = in.readNBytes(b, 0, b.length);
        if (n != b.length) {
          throw new IOException("response body ended after " + n + " of " + declared + " bytes");
        }
        return b;
      }
      byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 16, max + 1));
      if (b.length > max) {
        throw new IOException("response body exceeds " + max + " bytes");
      }
      return b;
    }
  }

  /**
   * A zstd frame is decompressed to exactly {@code expected} bytes; anything else is taken as the
   * raw chunk (a static server may store chunks uncompressed). The digest check decides.
   */
  static byte[] decode(byte[] body, int expected) throws IOException {
    if (body.length < 4
        || (body[0] & 0xff
                | (body[1] & 0xff) << 8
                | (body[2] & 0xff) << 16
                | (body[3] & 0xff) << 24)
            != ZSTD_MAGIC) {
      return body;
    }
    long size = Zstd.getFrameContentSize(body);
    if (size >= 0 && size != expected) {
      throw new ChunkDigestMismatchException(
          "zstd frame holds " + size + " bytes, expected " + expected);
    }
    // Decoded straight into an array of the expected size: a frame holding more fails with
    // "destination buffer too small", one holding less is caught below.
    try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
      byte[] out = new byte[expected];
      int n = d.decompressByteArray(out, 0, out.length, body, 0, body.length);
      if (n != expected) {
        throw new ChunkDigestMismatchException(
            "zstd frame decoded to " + n + " bytes, expected " + expected);
      }
      return out;
    } catch (ZstdException e) {
      if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
        throw new ChunkDigestMismatchException(
            "zstd frame decodes to more than the expected " + expected + " bytes");
      }
      throw new IOException("bad zstd frame: " + e.getMessage(), e);
    }
  }

  private static void sleepMs(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted during retry backoff");
    }
  }

  private static IOException asIo(Throwable t) {
    if (t instanceof IOException io) {
      return io;
    }
    if (t instanceof RuntimeException r) {
      throw r;
    }
    return new IOException(t);
  }

  @Override
  public void close() {
    http.close();
    httpExecutor.shutdownNow();
  }
}
