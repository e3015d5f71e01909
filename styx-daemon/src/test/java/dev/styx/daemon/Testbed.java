package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.api.ApiClient;
import dev.styx.erofs.ErofsWriter;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.server.ManifesterServer;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real parts for daemon tests: store paths added to the real /nix/store and copied into a signed
 * binary cache by Debian's Nix (shared per JVM), a manifester from styx-server on 127.0.0.1, and a
 * daemon on a Unix socket in a temp dir.
 */
final class Testbed {
  static final String JDK = "/usr/lib/jvm/java-17-openjdk-amd64";
  private static NixCacheFixture nix;
  private static Path sources;

  /** Labels of the shared store paths. */
  static final List<String> MACHINE_TREES =
      List.of("jdk", "ssl", "zoneinfo", "linux-headers", "perl", "gconv", "i18n", "java");

  private Testbed() {}

  /** The shared Nix cache (built once per JVM; needs root and nix-bin). */
  static synchronized NixCacheFixture nix() throws IOException, InterruptedException {
    if (nix == null) {
      Tiers.requireRoot();
      Tiers.requireNix();
      Path work = Files.createTempDirectory("styx-daemon-nix");
      sources = Files.createDirectories(work.resolve("src"));
      Map<String, Path> src = new LinkedHashMap<>();
      src.put("jdk", Path.of(JDK));
      src.put("ssl", Path.of("/etc/ssl"));
      src.put("zoneinfo", Path.of("/usr/share/zoneinfo"));
      src.put("linux-headers", Path.of("/usr/include/linux"));
      src.put("perl", Path.of("/usr/share/perl"));
      src.put("gconv", Path.of("/usr/lib/x86_64-linux-gnu/gconv"));
      src.put("i18n", Path.of("/usr/share/i18n"));
      src.put("java", Path.of("/usr/share/java"));
      Path file = sources.resolve("styx-single-file");
      Files.writeString(file, "one regular file as a whole store path\n".repeat(40));
      src.put("file", file);
      Path link = sources.resolve("styx-symlink");
      Files.createSymbolicLink(link, Path.of("/nonexistent/styx-target"));
      src.put("symlink", link);
      // Two versions of one tree that share most chunks (sharing test).
      src.put("v1", versionedTree(sources.resolve("styx-shared-v1"), 1));
      src.put("v2", versionedTree(sources.resolve("styx-shared-v2"), 2));
      // Eight related paths sharing a common payload (concurrency test).
      for (int i = 0; i < 8; i++) {
        src.put("family" + i, familyTree(sources.resolve("styx-family-" + i), i));
      }
      src.put("thousand", thousandFiles(sources.resolve("styx-thousand")));
      nix =
          NixCacheFixture.create(
              work.resolve("nix"), "styx-daemon-test-1", src, List.of("zstd"), false);
    }
    return nix;
  }

  static StorePath path(String label) throws IOException, InterruptedException {
    StorePath p = nix().paths().get(label);
    if (p == null) {
      throw new IllegalArgumentException("no store path " + label);
    }
    return p;
  }

  /** 6 files of 1..3 MiB (deterministic); version 2 changes one file and adds one. */
  private static Path versionedTree(Path root, int version) throws IOException {
    Files.createDirectories(root.resolve("lib"));
    for (int i = 0; i < 6; i++) {
      byte[] b = new byte[(1 + i % 3) << 20];
      new Random(100 + i).nextBytes(b);
      if (version == 2 && i == 2) {
        b[12345] ^= 1; // one changed chunk
      }
      Files.write(root.resolve("lib/part" + i + ".bin"), b);
    }
    if (version == 2) {
      byte[] extra = new byte[300_000];
      new Random(7).nextBytes(extra);
      Files.write(root.resolve("lib/new.bin"), extra);
    }
    Files.writeString(root.resolve("VERSION"), "version " + version + "\n");
    return root;
  }

  private static Path familyTree(Path root, int i) throws IOException {
    Files.createDirectories(root.resolve("share"));
    byte[] common = new byte[2 << 20];
    new Random(4242).nextBytes(common);
    Files.write(root.resolve("share/common.bin"), common);
    byte[] own = new byte[200_000 + i * 1000];
    new Random(9000 + i).nextBytes(own);
    Files.write(root.resolve("share/own.bin"), own);
    Files.writeString(root.resolve("name"), "family member " + i + "\n");
    return root;
  }

  private static Path thousandFiles(Path root) throws IOException {
    Random r = new Random(1000);
    for (int d = 0; d < 20; d++) {
      Path dir = Files.createDirectories(root.resolve("d" + d));
      for (int f = 0; f < 50; f++) {
        byte[] b = new byte[100 + r.nextInt(6000)];
        r.nextBytes(b);
        Files.write(dir.resolve("f" + f), b);
      }
    }
    return root;
  }

  /** The narinfo NarHash of a store path in the shared cache, as lower-case hex SHA-256. */
  static String narHashHex(StorePath p) throws IOException, InterruptedException {
    Path ni = nix().cacheDir("zstd").resolve(p.hashPart() + ".narinfo");
    Matcher m = Pattern.compile("(?m)^NarHash: (\\S+)$").matcher(Files.readString(ni));
    if (!m.find()) {
      throw new AssertionError("no NarHash in " + ni);
    }
    return HexFormat.of().formatHex(NixHash.parse(m.group(1)).bytes());
  }

  /** SHA-256 (hex) of {@code nix-store --dump path}. */
  static String dumpHashHex(Path path) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder("nix-store", "--dump", path.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    MessageDigest md = dev.styx.chunk.ChunkDigest.sha256();
    try (InputStream in = p.getInputStream()) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    assertEquals(0, p.waitFor(), "nix-store --dump " + path);
    return HexFormat.of().formatHex(md.digest());
  }

  /** A manifester over the shared cache, with a fresh signing key. */
  static final class Manifester implements AutoCloseable {
    final ManifesterServer server;
    final NixSecretKey key;

    Manifester(Path store) throws IOException, InterruptedException {
      key = NixSecretKey.generate("styx-manifester-test-1");
      server =
          new ManifesterServer(
              new ManifesterServer.Config(
                  new InetSocketAddress("127.0.0.1", 0),
                  store,
                  List.of(key),
                  List.of(upstream()),
                  NixKeyring.parse(nix().publicKey()),
                  3,
                  4));
    }

    String url() {
      return server.url();
    }

    String publicKey() {
      return key.publicKey().toString();
    }

    long chunksServed() {
      Matcher m =
          Pattern.compile("(?m)^styx_chunks_served_total (\\d+)")
              .matcher(server.metrics().render());
      return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    @Override
    public void close() {
      server.close();
    }
  }

  static String upstream() throws IOException, InterruptedException {
    return nix().http("zstd");
  }

  /** An in-process daemon in {@code dir}. */
  static Daemon daemon(Path dir, Duration mountTimeout) throws IOException {
    DaemonConfig cfg =
        new DaemonConfig(
            dir.resolve("cache"),
            dir.resolve("cache/styx.sock"),
            "rw-------",
            "eager",
            mountTimeout,
            16);
    return Daemon.start(cfg, ErofsWriter::write, new SystemdNotify(null));
  }

  static ApiClient.Reply init(ApiClient c, String manifester, String chunks, String key)
      throws IOException {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("ManifesterUrl", manifester);
    n.put("ChunksUrl", chunks);
    n.putArray("TrustedKeys").add(key);
    return c.post("/init", n.toString());
  }

  static ApiClient.Reply mount(ApiClient c, StorePath p, Path mountPoint)
      throws IOException, InterruptedException {
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("Upstream", upstream());
    n.put("StorePath", p.baseName());
    n.put("MountPoint", mountPoint.toString());
    n.put("NarSize", 0);
    return c.post("/mount", n.toString());
  }

  static ApiClient.Reply umount(ApiClient c, StorePath p) throws IOException {
    return c.post("/umount", "{\"StorePath\":\"" + p.baseName() + "\"}");
  }

  /** Unmounts everything below {@code dir} (test cleanup; mounts outlive daemons). */
  static void unmountAllUnder(Path dir) throws IOException {
    List<String> mps = new ArrayList<>(MountTable.mountPoints());
    mps.sort((a, b) -> b.length() - a.length());
    for (String mp : mps) {
      if (mp.startsWith(dir.toAbsolutePath().toString() + "/")) {
        try {
          dev.styx.kernel.Syscalls.umount(Path.of(mp), dev.styx.kernel.Syscalls.MNT_DETACH);
        } catch (IOException e) {
          // best effort
        }
      }
    }
  }

  /**
   * Unmounts everything under {@code dir} and deletes it (benchmarks leave gigabytes of slabs,
   * chunk stores and caches otherwise). Refuses if a mount is still in place under it.
   */
  static void unmountAndDelete(Path dir) throws IOException {
    unmountAllUnder(dir);
    String prefix = dir.toAbsolutePath() + "/";
    for (String mp : MountTable.mountPoints()) {
      if (mp.startsWith(prefix)) {
        throw new IOException("not deleting " + dir + ": " + mp + " is still mounted");
      }
    }
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(p);
      }
    }
  }

  /** The verified manifest of a store path, straight from the manifester. */
  static dev.styx.manifest.Manifest manifest(Manifester m, StorePath p) throws Exception {
    try (ManifestClient mc = new ManifestClient(Duration.ofSeconds(5))) {
      byte[] obj =
          mc.fetch(m.url(), upstream(), p.toString(), java.time.Instant.now().plusSeconds(120));
      dev.styx.manifest.SignedManifest sm =
          dev.styx.manifest.ChunkStreamFetcher.join(
              dev.styx.manifest.ManifestObject.decode(obj), java.net.URI.create(m.url()));
      return sm.verify(NixKeyring.parse(m.publicKey()));
    }
  }

  /**
   * Distinct chunks of a store path's manifest object itself: 0 if the manifest is inline, else
   * those of its {@link dev.styx.manifest.ChunkedManifest} (a large manifest is joined from chunks
   * the daemon fetches at mount time).
   */
  static long manifestChunks(Manifester m, StorePath p) throws Exception {
    try (ManifestClient mc = new ManifestClient(Duration.ofSeconds(5))) {
      byte[] obj =
          mc.fetch(m.url(), upstream(), p.toString(), java.time.Instant.now().plusSeconds(120));
      return dev.styx.manifest.ManifestObject.decode(obj)
              instanceof dev.styx.manifest.ChunkedManifest cm
          ? cm.digests().stream().distinct().count()
          : 0;
    }
  }

  /** Distinct chunks (digest to length) of some manifests. */
  static Map<dev.styx.chunk.ChunkDigest, Integer> distinctChunks(
      List<dev.styx.manifest.Manifest> ms) {
    Map<dev.styx.chunk.ChunkDigest, Integer> out = new LinkedHashMap<>();
    for (dev.styx.manifest.Manifest m : ms) {
      for (dev.styx.slab.ChunkRef r : ImagePlan.chunks(m)) {
        out.put(r.digest(), r.length());
      }
    }
    return out;
  }
}
