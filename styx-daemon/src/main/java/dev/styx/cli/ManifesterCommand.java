package dev.styx.cli;

import dev.styx.hash.Sha256;
import dev.styx.server.ManifesterServer;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSecretKey;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code styx manifester ...}: the server that turns binary caches into manifests and chunks. */
@Command(
    name = "manifester",
    mixinStandardHelpOptions = true,
    description = {
      "Serve signed manifests and chunks for store paths of allow-listed Nix binary caches.",
      "",
      "POST /manifest {\"upstream\": URL, \"storePath\": PATH} fetches the narinfo (its signature",
      "must verify under an --upstream-key) and the NAR (FileHash and NarHash verified while",
      "streaming), cuts files into chunks, stores new chunks once and returns the manifest signed",
      "with --signing-key. Concurrent requests for one path share one ingest.",
      "",
      "--store DIR is a static tree: DIR/chunk/<sha256 hex> (zstd frames) and DIR/manifest/<key>,",
      "so any static HTTP server can serve it. A manifest over 64 KiB encoded is stored as",
      "64 KiB chunks in chunk/ behind a small signed envelope; clients join it from the chunks.",
      "Also: GET /chunk/HEX, GET /manifest/KEY,",
      "POST /chunks {\"digests\":[...]}, POST /chunkdiff {\"bases\":[...],\"targets\":[...]}",
      "(lengths in X-Styx-Lengths; per request at most 4,096 digests and 64 MiB per side, so",
      "any zstd decodes the frame without a larger --memory), GET /metrics (Prometheus),",
      "GET /healthz.",
      "Errors are JSON {error, code, status, retry}; 502/503/504 mean retry later.",
    })
final class ManifesterCommand implements Callable<Integer> {
  @Option(
      names = "--listen",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Address to listen on, e.g. 127.0.0.1:7420 (port 0 picks a free one).")
  String listen;

  @Option(
      names = "--store",
      required = true,
      paramLabel = "DIR",
      description = "Chunk store and manifest cache directory.")
  Path store;

  @Option(
      names = "--signing-key",
      required = true,
      paramLabel = "FILE",
      description = "Nix secret key file (nix-store --generate-binary-cache-key); repeatable.")
  List<Path> signingKeys;

  @Option(
      names = "--upstream",
      required = true,
      paramLabel = "URL",
      description = "Allowed binary cache (http://, https://, file://); repeatable.")
  List<String> upstreams;

  @Option(
      names = "--upstream-key",
      required = true,
      paramLabel = "NAME:PUBKEY",
      description =
          "Key trusted for upstream narinfo signatures (like trusted-public-keys); repeatable.")
  List<String> upstreamKeys;

  @Option(
      names = "--zstd-level",
      defaultValue = "" + ManifesterServer.DEFAULT_ZSTD_LEVEL,
      paramLabel = "N",
      description =
          "zstd level of stored chunks, 1-19 (default ${DEFAULT-VALUE}: ingest is on the path of"
              + " a waiting client, and level 1 costs about half the CPU of level 3 for chunks"
              + " ~5%% larger; raise it for a store read many times over slow links). /chunkdiff"
              + " answers use level 3, as zstd --patch-from does.")
  int zstdLevel;

  @Option(
      names = "--max-ingests",
      defaultValue = "4",
      paramLabel = "N",
      description = "Store paths ingested at once; more wait (default ${DEFAULT-VALUE}).")
  int maxIngests;

  @Override
  public Integer call() throws Exception {
    List<NixSecretKey> keys = new ArrayList<>();
    for (Path p : signingKeys) {
      try {
        keys.add(NixSecretKey.read(p));
      } catch (IllegalArgumentException e) {
        throw new IOException("bad signing key " + p + ": " + e.getMessage(), e);
      }
    }
    NixKeyring ring = NixKeyring.of(upstreamKeys.stream().map(NixPublicKey::parse).toList());
    ManifesterServer s =
        new ManifesterServer(
            new ManifesterServer.Config(
                parseListen(listen), store, keys, upstreams, ring, zstdLevel, maxIngests));
    System.err.println(
        "styx manifester: listening on "
            + s.url()
            + ", store "
            + store.toAbsolutePath()
            + " (chunks at zstd level "
            + zstdLevel
            + ")"
            + ", upstreams "
            + s.manifester().upstreams()
            + ", signing as "
            + keys.stream().map(NixSecretKey::name).toList()
            + ", chunk hashing "
            + (Sha256.available()
                ? "with the NarHash on the CPU's SHA extensions"
                : "by the JDK (" + Sha256.unavailableReason() + ")"));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  s.close();
                  done.countDown();
                }));
    done.await();
    return 0;
  }

  /** Parses {@code HOST:PORT} or {@code [v6]:PORT}. */
  static InetSocketAddress parseListen(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("--listen wants HOST:PORT, got '" + s + "'");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--listen port is not a number: '" + s + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--listen port out of range: " + port);
    }
    return new InetSocketAddress(host, port);
  }
}
