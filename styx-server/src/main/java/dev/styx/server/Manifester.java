package dev.styx.server;

import dev.styx.cache.BinaryCacheClient;
import dev.styx.cache.BinaryCacheException;
import dev.styx.cache.CorruptCompressionException;
import dev.styx.cache.NarIntegrityException;
import dev.styx.cache.UntrustedNarInfoException;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.manifest.ChunkedManifest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestBuilder;
import dev.styx.manifest.ManifestEnvelope;
import dev.styx.manifest.ManifestFormatException;
import dev.styx.manifest.ManifestKey;
import dev.styx.manifest.ManifestObject;
import dev.styx.manifest.NarManifestVisitor;
import dev.styx.manifest.SignedManifest;
import dev.styx.nar.NarFormatException;
import dev.styx.nar.NarReader;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns store paths of allow-listed Nix binary caches into signed manifests (ARCHITECTURE.md
 * "Trust"): fetch the narinfo and check its signature against the upstream keys, stream the NAR
 * (decompressed, FileHash and NarHash verified by {@link BinaryCacheClient} at its end), cut and
 * store the chunks, sign the manifest and put it in the manifest cache. Concurrent requests for the
 * same (upstream, path) share one ingest; a cached manifest is answered without any ingest.
 *
 * <p>Only after the NAR verified is a manifest signed and stored, so a bad upstream never leaves a
 * manifest behind. Chunks cut before a failure may remain: they are named by their content, so they
 * are correct objects, merely unreferenced.
 */
public final class Manifester implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Manifester.class);

  /** Where a response came from: the cache, a new ingest, or an ingest already running. */
  public record Result(String key, byte[] object, String source) {}

  private final ChunkStoreDir store;
  private final List<NixSecretKey> signingKeys;
  private final Map<String, BinaryCacheClient> upstreams = new LinkedHashMap<>();
  private final ExecutorService ingestPool;
  private final ChunkPipeline chunks;
  private final ServerMetrics metrics;
  private final ConcurrentHashMap<String, CompletableFuture<Result>> running =
      new ConcurrentHashMap<>();

  /**
   * @param upstreamUrls the allow-list; requests naming any other upstream are refused
   * @param upstreamKeys keys trusted for narinfo signatures (all upstreams)
   * @param ingestPool runs ingests (blocking network reads and NAR parsing)
   * @param chunks hashes, compresses and writes chunks (shared, not closed by this manifester)
   */
  public Manifester(
      ChunkStoreDir store,
      List<NixSecretKey> signingKeys,
      List<String> upstreamUrls,
      NixKeyring upstreamKeys,
      ExecutorService ingestPool,
      ChunkPipeline chunks,
      ServerMetrics metrics) {
    if (signingKeys.isEmpty()) {
      throw new IllegalArgumentException("the manifester needs a signing key");
    }
    if (upstreamKeys.isEmpty()) {
      throw new IllegalArgumentException("the manifester needs at least one --upstream-key");
    }
    this.store = store;
    this.signingKeys = List.copyOf(signingKeys);
    this.ingestPool = ingestPool;
    this.chunks = chunks;
    this.metrics = metrics;
    for (String u : upstreamUrls) {
      String norm = ManifestKey.normalizeUpstream(u);
      upstreams.put(norm, BinaryCacheClient.builder(norm).trustedKeys(upstreamKeys).build());
    }
    if (upstreams.isEmpty()) {
      throw new IllegalArgumentException("the manifester needs at least one --upstream");
    }
  }

  /** The normalized allow-listed upstream URLs. */
  public Set<String> upstreams() {
    return upstreams.keySet();
  }

  /** The stored manifest object under {@code key}, or a 404. */
  public byte[] cachedObject(String key) throws IOException {
    String k;
    try {
      k = ChunkStoreDir.checkKey(key);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    return store
        .readManifest(k)
        .orElseThrow(() -> ApiException.notFound("manifest-not-cached", "no manifest " + key));
  }

  /**
   * The signed manifest object for {@code storePath} (full path, base name or hash part) from
   * {@code upstream}: from the cache, or ingested now (joining an ingest already running).
   */
  public Result manifest(String upstream, String storePath) throws IOException {
    String norm;
    String hashPart;
    try {
      norm = ManifestKey.normalizeUpstream(upstream);
      hashPart = ManifestKey.hashPart(storePath);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    Optional<StorePath> wanted = Optional.empty();
    if (storePath.length() > 32) {
      try {
        wanted =
            Optional.of(
                storePath.startsWith("/")
                    ? StorePath.parse(storePath)
                    : StorePath.parseBaseName(storePath));
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(e.getMessage());
      }
    }
    BinaryCacheClient client = upstreams.get(norm);
    if (client == null) {
      throw new ApiException(
          403,
          "upstream-not-allowed",
          "upstream " + norm + " is not on this manifester's allow-list " + upstreams.keySet());
    }
    String key = ManifestKey.of(norm, hashPart);
    Optional<byte[]> cached = store.readManifest(key);
    if (cached.isPresent()) {
      if (whole(key, cached.get(), true)) {
        metrics.manifestCacheHits.increment();
        return new Result(key, cached.get(), "hit");
      }
      metrics.manifestsRebuilt.increment(); // and built again below, like a miss
    }
    CompletableFuture<Result> mine = new CompletableFuture<>();
    CompletableFuture<Result> f = running.putIfAbsent(key, mine);
    String source = "coalesced";
    if (f == null) {
      f = mine;
      source = "miss";
      metrics.manifestCacheMisses.increment();
      try {
        ingestPool.execute(() -> runIngest(client, norm, hashPart, key, mine));
      } catch (RejectedExecutionException e) {
        running.remove(key, mine);
        mine.completeExceptionally(
            new ApiException(503, "overloaded", "too many ingests queued, retry later"));
      }
    } else {
      metrics.coalesced.increment();
    }
    Result r = await(f);
    if (wanted.isPresent()) {
      checkName(r, wanted.get());
    }
    return new Result(r.key(), r.object(), source);
  }

  private void checkName(Result r, StorePath wanted) throws IOException {
    Manifest m =
        ManifestObject.unwrap(r.object(), this::storedChunk).verify(NixKeyring.of(publicKeys()));
    if (!m.storePath().equals(wanted.toString())) {
      throw ApiException.notFound(
          "store-path-mismatch",
          "upstream has "
              + m.storePath()
              + " for hash part "
              + wanted.hashPart()
              + ", not "
              + wanted);
    }
  }

  /**
   * Whether a cached manifest object can be served: it decodes, and if it is stored as chunks, all
   * of them are in the store (an operator may have pruned {@code chunk/}). Otherwise the path is
   * ingested again, which writes the missing chunks back.
   */
  private boolean whole(String key, byte[] object, boolean warn) {
    try {
      if (ManifestObject.decode(object) instanceof ChunkedManifest cm) {
        for (var d : cm.digests()) {
          if (!store.hasChunk(d)) {
            if (warn) {
              log.warn(
                  "cached manifest {} names chunk {}, missing from the store; ingesting again",
                  key,
                  d.hex());
            }
            return false;
          }
        }
      }
      return true;
    } catch (ManifestFormatException e) {
      if (warn) {
        log.warn("cached manifest {} is unreadable ({}); ingesting again", key, e.getMessage());
      }
      return false;
    }
  }

  /** A chunk from this manifester's own store (for chunked manifests it stored). */
  private byte[] storedChunk(dev.styx.chunk.ChunkDigest d, int length) throws IOException {
    return store
        .readChunk(d)
        .orElseThrow(
            () ->
                new IOException(
                    "chunk " + d.hex() + " of a stored manifest is missing from " + store.root()));
  }

  private List<dev.styx.sig.NixPublicKey> publicKeys() {
    return signingKeys.stream().map(NixSecretKey::publicKey).toList();
  }

  private static Result await(CompletableFuture<Result> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted waiting for ingest", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause() instanceof CompletionException ce ? ce.getCause() : e.getCause();
      if (c instanceof ApiException a) {
        throw a;
      }
      if (c instanceof IOException io) {
        throw io;
      }
      throw new IOException("ingest failed: " + c, c);
    }
  }

  private void runIngest(
      BinaryCacheClient client,
      String upstream,
      String hashPart,
      String key,
      CompletableFuture<Result> out) {
    try {
      // An ingest that finished between our cache check and taking ownership already stored it.
      Optional<byte[]> done = store.readManifest(key);
      if (done.isPresent() && whole(key, done.get(), false)) {
        metrics.manifestCacheHits.increment();
        out.complete(new Result(key, done.get(), "hit"));
        return;
      }
      out.complete(ingest(client, upstream, hashPart, key));
    } catch (Throwable t) {
      metrics.ingestFailures.increment();
      if (t instanceof StoreWriteException) {
        log.error("ingest of {} from {} failed: {}", hashPart, upstream, t.getMessage());
      } else {
        log.info("ingest of {} from {} failed: {}", hashPart, upstream, t.toString());
      }
      out.completeExceptionally(classify(t, upstream, hashPart));
    } finally {
      running.remove(key, out);
    }
  }

  private Result ingest(BinaryCacheClient client, String upstream, String hashPart, String key)
      throws IOException, InterruptedException {
    long t0 = System.nanoTime();
    NarInfo ni =
        client
            .narInfo(hashPart)
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "upstream-not-found",
                        "upstream " + upstream + " has no narinfo for " + hashPart));
    ManifestBuilder builder =
        new ManifestBuilder(
            new StoringChunkConsumer(store, chunks, metrics, chunks.chunksInFlight()));
    long narBytes;
    try (InputStream nar = client.openNar(ni)) {
      narBytes = NarReader.read(nar, new NarManifestVisitor(builder));
    } catch (IOException | RuntimeException e) {
      builder.cancel();
      throw e;
    }
    Manifest m =
        builder.build(
            ni.storePath().toString(),
            ni.narHash().toNix32String(),
            ni.narSize(),
            ni.references().stream().map(StorePath::baseName).toList());
    SignedManifest sm = SignedManifest.sign(m, signingKeys);
    // A large manifest goes into the chunk store as chunks first, so the small envelope that names
    // them is never stored or served before they are.
    ManifestEnvelope env = ChunkedManifest.wanted(sm) ? storeChunks(m.storePath(), sm) : sm;
    byte[] object = ManifestObject.wrap(env);
    try {
      store.putManifest(key, object);
    } catch (IOException e) {
      throw new StoreWriteException("manifest " + key, e);
    }
    long dt = System.nanoTime() - t0;
    metrics.ingests.increment();
    metrics.ingestNarBytes.add(narBytes);
    metrics.upstreamBytes.add(ni.fileSize() > 0 ? ni.fileSize() : narBytes);
    metrics.ingestNanos.add(dt);
    log.info(
        "ingested {} ({} NAR bytes, {} chunks) in {} ms",
        m.storePath(),
        narBytes,
        m.chunkCount(),
        dt / 1_000_000);
    return new Result(key, object, "miss");
  }

  /** Stores the chunks of a large manifest's encoding; returns the envelope that names them. */
  private ChunkedManifest storeChunks(String storePath, SignedManifest sm) throws IOException {
    ChunkedManifest cm = ChunkedManifest.of(sm);
    byte[] b = sm.manifestBytes();
    List<dev.styx.slab.ChunkRef> chunks = cm.chunks();
    for (int i = 0; i < chunks.size(); i++) {
      dev.styx.slab.ChunkRef c = chunks.get(i);
      long stored;
      try {
        stored = store.putChunk(c.digest(), b, i << ChunkedManifest.CHUNK_SHIFT, c.length());
      } catch (IOException e) {
        throw new StoreWriteException("manifest chunk " + c.digest().hex(), e);
      }
      if (stored >= 0) {
        metrics.chunksNew.increment();
        metrics.chunkBytesNew.add(c.length());
        metrics.chunkBytesStored.add(stored);
      } else {
        metrics.chunksExisting.increment();
      }
    }
    metrics.manifestsChunked.increment();
    log.info(
        "manifest of {}: {} bytes, stored as {} chunks", storePath, sm.size(), cm.digests().size());
    return cm;
  }

  /** Maps an ingest failure to the status the client sees. */
  static ApiException classify(Throwable t, String upstream, String hashPart) {
    return switch (t) {
      case ApiException a -> a;
      case StoreWriteException e when e.outOfSpace() ->
          new ApiException(507, "store-full", e.getMessage(), e);
      case StoreWriteException e -> new ApiException(500, "store-io", e.getMessage(), e);
      case UntrustedNarInfoException e ->
          new ApiException(422, "upstream-untrusted", e.getMessage(), e);
      case NarIntegrityException e -> new ApiException(422, "nar-integrity", e.getMessage(), e);
      case CorruptCompressionException e ->
          new ApiException(422, "nar-integrity", e.getMessage(), e);
      case NarFormatException e ->
          new ApiException(
              422,
              "bad-nar",
              "NAR of " + hashPart + " from " + upstream + ": " + e.getMessage(),
              e);
      case BinaryCacheException e -> new ApiException(502, "upstream-error", e.getMessage(), e);
      case IllegalArgumentException e ->
          new ApiException(
              422, "bad-upstream-data", "bad data from " + upstream + ": " + e.getMessage(), e);
      case IOException e
          when String.valueOf(e.getMessage()).contains("unsupported NAR compression") ->
          new ApiException(422, "unsupported-compression", e.getMessage(), e);
      case IOException e when isCorruptCompression(e) ->
          new ApiException(
              422,
              "nar-integrity",
              "compressed NAR of " + hashPart + " from " + upstream + " is corrupt: " + e,
              e);
      case IOException e ->
          new ApiException(
              502, "upstream-io", "reading " + hashPart + " from " + upstream + " failed: " + e, e);
      default -> new ApiException(500, "internal", "ingest failed: " + t, t);
    };
  }

  /** Decompressor errors: the file is damaged (retrying a static cache gives the same bytes). */
  private static boolean isCorruptCompression(IOException e) {
    String n = e.getClass().getName();
    return n.startsWith("org.tukaani.xz.")
        || n.equals("com.github.luben.zstd.ZstdIOException")
        || e instanceof java.util.zip.ZipException
        || n.startsWith("org.apache.commons.compress.");
  }

  @Override
  public void close() {
    upstreams.values().forEach(BinaryCacheClient::close);
  }
}
