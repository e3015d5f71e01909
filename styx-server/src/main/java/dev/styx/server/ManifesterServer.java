package dev.styx.server;

import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.diff.DiffCodec;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The manifester service: chunk store, ingest and CPU pools, and the HTTP listener. Threads: Netty
 * event loops for HTTP framing, a virtual thread per request, a bounded platform pool for ingests
 * (network reads, NAR parsing) and one platform thread per core for hashing and zstd.
 */
public final class ManifesterServer implements AutoCloseable {
  /**
   * zstd level of stored chunks unless {@code --zstd-level} says otherwise. Level 1, as the Go
   * original's local directory store uses: ingest runs while a client waits for the manifest, and
   * on a 5,406-file tree level 1 spent 2.5 ms of zstd CPU per MB of NAR against level 3's 4.8 (the
   * biggest cost of ingest) for a chunk store 5% larger (136.4 vs 129.9 MB). A store that is
   * ingested once and read many times over slow links can take a higher level.
   */
  public static final int DEFAULT_ZSTD_LEVEL = 1;

  /** Settings of one manifester. */
  public record Config(
      InetSocketAddress listen,
      Path storeDir,
      List<NixSecretKey> signingKeys,
      List<String> upstreams,
      NixKeyring upstreamKeys,
      int zstdLevel,
      int maxIngests) {
    public Config {
      signingKeys = List.copyOf(signingKeys);
      upstreams = List.copyOf(upstreams);
      if (zstdLevel < 1 || zstdLevel > 19) {
        throw new IllegalArgumentException("zstd level must be 1..19, got " + zstdLevel);
      }
      if (maxIngests < 1) {
        throw new IllegalArgumentException("max ingests must be >= 1");
      }
    }
  }

  private final ServerMetrics metrics = new ServerMetrics();
  private final ExecutorService cpu;
  private final ChunkPipeline chunkPipeline;
  private final ExecutorService ingests;
  private final ExecutorService requests;
  private final Manifester manifester;
  private final ChunkStoreDir store;
  private final HttpServer http;

  /** Opens the store and starts listening. */
  public ManifesterServer(Config c) throws IOException, InterruptedException {
    store = new ChunkStoreDir(c.storeDir(), c.zstdLevel());
    int cores = Runtime.getRuntime().availableProcessors();
    cpu = pool("styx-cpu", cores, 4096);
    chunkPipeline = new ChunkPipeline(cpu);
    ingests = pool("styx-ingest", c.maxIngests(), 1024);
    requests =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("styx-req-", 0).factory());
    try {
      manifester =
          new Manifester(
              store,
              c.signingKeys(),
              c.upstreams(),
              c.upstreamKeys(),
              ingests,
              chunkPipeline,
              metrics);
      ChunkService chunks = new ChunkService(store, cpu, metrics, DiffCodec.DEFAULT_LEVEL);
      http = new HttpServer(c.listen(), new HttpApi(manifester, chunks, metrics, requests));
    } catch (InterruptedException | RuntimeException e) {
      shutdownPools();
      throw e;
    }
  }

  private static ExecutorService pool(String name, int threads, int queue) {
    AtomicInteger n = new AtomicInteger();
    return new ThreadPoolExecutor(
        threads,
        threads,
        30,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queue),
        r -> {
          Thread t = new Thread(r, name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /** The bound address (the port is real even if 0 was asked for). */
  public InetSocketAddress address() {
    return http.address();
  }

  /** {@code http://host:port} of this server. */
  public String url() {
    InetSocketAddress a = address();
    return "http://" + a.getHostString() + ":" + a.getPort();
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  public ChunkStoreDir store() {
    return store;
  }

  public Manifester manifester() {
    return manifester;
  }

  @Override
  public void close() {
    http.close();
    manifester.close();
    shutdownPools();
  }

  private void shutdownPools() {
    requests.shutdownNow();
    ingests.shutdownNow();
    chunkPipeline.close();
    cpu.shutdownNow();
  }
}
