package dev.styx.manifest;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.ChunkRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Streams the chunks of a manifest in manifest order from a chunk tree: batches through {@code POST
 * <base>/chunks} (lengths in {@code X-Styx-Lengths}), or one {@code GET <base>/chunk/<hex>} per
 * chunk when the server is a plain static server. A few batches are fetched ahead. Every chunk is
 * checked against its digest. Requests are retried as {@link HttpRetry} says. Meant for sequential
 * consumers such as {@link ManifestNarWriter}; the daemon has its own fetch client.
 */
public final class ChunkStreamFetcher implements ChunkProvider, AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int BATCH_CHUNKS = 128;
  private static final long BATCH_BYTES = 8L << 20;

  /** Tries per request (transport errors and 502/503/504; see {@link HttpRetry}). */
  private static final int ATTEMPTS = 4;

  private final URI base;
  private final HttpClient http;
  private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  private final ArrayDeque<List<ChunkDigest>> todo = new ArrayDeque<>();
  private final ArrayDeque<Future<Map<ChunkDigest, byte[]>>> ahead = new ArrayDeque<>();
  private final int depth;
  private volatile boolean batchRoute = true;
  private Map<ChunkDigest, byte[]> current = Map.of();
  private long bytes;

  /** Plans the fetch of every chunk of {@code m} in order. */
  public ChunkStreamFetcher(URI base, Manifest m, int depth) {
    this(base, chunksOf(m), depth);
  }

  /**
   * Plans the fetch of {@code plan} in order (a digest may repeat), for example the chunks of a
   * {@link ChunkedManifest}.
   */
  public ChunkStreamFetcher(URI base, List<ChunkRef> plan, int depth) {
    String s = base.toString();
    this.base = URI.create(s.endsWith("/") ? s : s + "/");
    this.depth = Math.max(1, depth);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    Map<ChunkDigest, Integer> group = new LinkedHashMap<>();
    long groupBytes = 0;
    for (ChunkRef c : plan) {
      ChunkDigest d = c.digest();
      if (group.containsKey(d)) {
        continue;
      }
      if (group.size() >= BATCH_CHUNKS || groupBytes + c.length() > BATCH_BYTES) {
        todo.add(List.copyOf(group.keySet()));
        group.clear();
        groupBytes = 0;
      }
      group.put(d, c.length());
      groupBytes += c.length();
    }
    if (!group.isEmpty()) {
      todo.add(List.copyOf(group.keySet()));
    }
    refill();
  }

  /**
   * The manifest of {@code env} in hand: itself if inline, else its chunks fetched from {@code
   * chunks} (a manifester or a static chunk store; null: refused with a message that says so).
   */
  public static SignedManifest join(ManifestEnvelope env, URI chunks) throws IOException {
    if (env instanceof ChunkedManifest cm && chunks != null) {
      try (ChunkStreamFetcher f = new ChunkStreamFetcher(chunks, cm.chunks(), 4)) {
        return cm.join(f);
      }
    }
    return env.join(null);
  }

  private static List<ChunkRef> chunksOf(Manifest m) {
    List<ChunkRef> refs = new java.util.ArrayList<>();
    for (ManifestEntry e : m.entries()) {
      if (e instanceof ManifestEntry.ChunkedFile f) {
        for (int i = 0; i < f.digests().size(); i++) {
          refs.add(new ChunkRef(f.digests().get(i), f.chunkLength(i)));
        }
      }
    }
    return refs;
  }

  /** Chunk bytes received (uncompressed). */
  public long bytes() {
    return bytes;
  }

  @Override
  public byte[] chunk(ChunkDigest d, int length) throws IOException {
    byte[] b = current.get(d);
    while (b == null) {
      if (ahead.isEmpty()) {
        throw new IOException("chunk " + d + " was not planned (fetch order broken)");
      }
      current = await(ahead.poll());
      refill();
      b = current.get(d);
    }
    return b;
  }

  private void refill() {
    while (ahead.size() < depth && !todo.isEmpty()) {
      List<ChunkDigest> g = todo.poll();
      ahead.add(pool.submit(() -> fetch(g)));
    }
  }

  private static Map<ChunkDigest, byte[]> await(Future<Map<ChunkDigest, byte[]>> f)
      throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("chunk fetch failed: " + e.getCause(), e.getCause());
    }
  }

  private Map<ChunkDigest, byte[]> fetch(List<ChunkDigest> group) throws IOException {
    if (batchRoute) {
      ObjectNode req = JSON.createObjectNode();
      ArrayNode a = req.putArray("digests");
      group.forEach(d -> a.add(d.hex()));
      HttpResponse<byte[]> r =
          HttpRetry.send(
              http,
              HttpRequest.newBuilder(base.resolve("chunks"))
                  .timeout(Duration.ofMinutes(2))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(req)))
                  .build(),
              ATTEMPTS);
      int s = r.statusCode();
      if (s == 200) {
        return splitBatch(group, r);
      }
      if (s == 404
          && r.headers().firstValue("Content-Type").orElse("").contains("json")
          && new String(r.body()).contains("chunk-not-found")) {
        throw ManifestClient.error(r, "POST " + base + "chunks");
      }
      if (s != 404 && s != 405 && s != 501) {
        throw ManifestClient.error(r, "POST " + base + "chunks");
      }
      batchRoute = false; // a static server: no batch route
    }
    Map<ChunkDigest, byte[]> out = new HashMap<>();
    for (ChunkDigest d : group) {
      URI u = base.resolve("chunk/" + d.hex());
      HttpResponse<byte[]> r =
          HttpRetry.send(
              http,
              HttpRequest.newBuilder(u).timeout(Duration.ofMinutes(1)).GET().build(),
              ATTEMPTS);
      if (r.statusCode() != 200) {
        throw ManifestClient.error(r, "GET " + u);
      }
      out.put(d, checked(d, decompress(r.body(), "chunk " + d)));
    }
    return out;
  }

  private Map<ChunkDigest, byte[]> splitBatch(List<ChunkDigest> group, HttpResponse<byte[]> r)
      throws IOException {
    String h =
        r.headers()
            .firstValue("X-Styx-Lengths")
            .orElseThrow(() -> new IOException("batch response has no X-Styx-Lengths"));
    String[] parts = h.split(",");
    if (parts.length != group.size()) {
      throw new IOException(
          "batch response has " + parts.length + " lengths for " + group.size() + " chunks");
    }
    byte[] all = decompress(r.body(), "batch");
    Map<ChunkDigest, byte[]> out = new HashMap<>();
    int off = 0;
    for (int i = 0; i < parts.length; i++) {
      int len = Integer.parseInt(parts[i].trim());
      if (len < 0 || off + len > all.length) {
        throw new IOException("batch lengths exceed the decoded data");
      }
      byte[] c = java.util.Arrays.copyOfRange(all, off, off + len);
      off += len;
      out.put(group.get(i), checked(group.get(i), c));
    }
    if (off != all.length) {
      throw new IOException("batch has " + (all.length - off) + " bytes beyond its lengths");
    }
    return out;
  }

  private byte[] checked(ChunkDigest d, byte[] data) throws IOException {
    if (!ChunkDigest.of(data).equals(d)) {
      throw new IOException("chunk digest mismatch for " + d);
    }
    synchronized (this) {
      bytes += data.length;
    }
    return data;
  }

  private static byte[] decompress(byte[] z, String what) throws IOException {
    long size = Zstd.getFrameContentSize(z);
    if (size < 0 || size > (256L << 20)) {
      throw new IOException(what + ": not a zstd frame with a content size");
    }
    try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
      return d.decompress(z, (int) size);
    } catch (ZstdException e) {
      throw new IOException(what + ": bad zstd frame: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
    http.close();
  }
}
