package dev.styx.testing;

import dev.styx.nix.StorePath;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Real binary caches made by Debian's Nix, shared by every test of one JVM ({@link #shared()} is
 * built once). Source trees are {@code nix-store --add}ed into the real /nix/store, a signing key
 * is made with {@code nix-store --generate-binary-cache-key}, and {@code nix copy --to
 * 'file://DIR?compression=C&secret-key=SK'} writes one cache per compression (xz, zstd, none).
 *
 * <p>The shared set holds: {@link #tree()} (a {@link GeneratedTree} with every entry kind), {@link
 * #singleFile()} (root is a regular file), {@link #symlink()} (root is a dangling symlink;
 * nix-store --add accepts symlinks), and {@link #withReference()} (built by nix-build, refers to
 * {@link #tree()}). {@link #http(String)} serves a cache on 127.0.0.1 with a static server.
 */
public final class NixCacheFixture {
  /** Compressions of the shared caches. */
  public static final List<String> COMPRESSIONS = List.of("xz", "zstd", "none");

  private static NixCacheFixture shared;
  private static AssertionError sharedFailure;
  private static NixCacheFixture sharedJdk;

  /** The JDK that {@link #sharedJdk()} puts in its cache (a large, realistic tree). */
  public static final Path JDK = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

  private final Path work;
  private final String keyName;
  private final Path secretKeyFile;
  private final String publicKey;
  private final Map<String, StorePath> paths;
  private final Map<String, Path> caches = new LinkedHashMap<>();
  private final Map<String, StaticHttpServer> servers = new LinkedHashMap<>();

  private NixCacheFixture(
      Path work, String keyName, Path secretKeyFile, String publicKey, Map<String, StorePath> p) {
    this.work = work;
    this.keyName = keyName;
    this.secretKeyFile = secretKeyFile;
    this.publicKey = publicKey;
    this.paths = p;
  }

  /** The per-JVM shared fixture (built on first use; needs root and nix-bin). */
  public static synchronized NixCacheFixture shared() throws IOException, InterruptedException {
    if (sharedFailure != null) {
      throw new AssertionError("shared Nix cache fixture failed earlier", sharedFailure);
    }
    if (shared == null) {
      Tiers.requireNix();
      Path work = Files.createTempDirectory("styx-nix-fixture");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(work)));
      Path src = Files.createDirectories(work.resolve("src"));
      Map<String, Path> sources = new LinkedHashMap<>();
      sources.put("tree", GeneratedTree.create(src.resolve("styx-tree")));
      Path file = src.resolve("styx-single-file");
      Files.writeString(file, "a store path that is one regular file\n");
      sources.put("file", file);
      Path link = src.resolve("styx-symlink");
      Files.createSymbolicLink(link, Path.of("/nonexistent/styx-target"));
      sources.put("symlink", link);
      try {
        shared = create(work, "styx-test-1", sources, COMPRESSIONS, true);
      } catch (AssertionError e) {
        sharedFailure = e;
        throw e;
      }
    }
    return shared;
  }

  /**
   * A per-JVM zstd cache (about 6 s to build) holding one large realistic path, the JDK at {@link
   * #JDK} (label {@code jdk}, about 270 MB of NAR), signed like {@link #shared()}.
   */
  public static synchronized NixCacheFixture sharedJdk() throws IOException, InterruptedException {
    if (sharedJdk == null) {
      Tiers.requireNix();
      Path work = Files.createTempDirectory("styx-nix-fixture-jdk");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(work)));
      sharedJdk = create(work, "styx-test-jdk", Map.of("jdk", JDK), List.of("zstd"), false);
    }
    return sharedJdk;
  }

  /**
   * Builds a fixture in {@code work}: adds each source (label to path) to the store, optionally
   * builds a path that references the first one (label {@code withref}), and writes one signed
   * cache per compression.
   */
  public static NixCacheFixture create(
      Path work,
      String keyName,
      Map<String, Path> sources,
      List<String> compressions,
      boolean withReference)
      throws IOException, InterruptedException {
    Tiers.requireNix();
    Files.createDirectories(work);
    Path sk = work.resolve("secret-key");
    Path pk = work.resolve("public-key");
    Tiers.run(
        work, "nix-store", "--generate-binary-cache-key", keyName, sk.toString(), pk.toString());
    Map<String, StorePath> p = new LinkedHashMap<>();
    for (Map.Entry<String, Path> e : sources.entrySet()) {
      String out = Tiers.run(work, "nix-store", "--add", e.getValue().toString()).trim();
      p.put(e.getKey(), StorePath.parse(out));
    }
    if (withReference && !p.isEmpty()) {
      StorePath dep = p.values().iterator().next();
      Path nix = work.resolve("withref.nix");
      Files.writeString(
          nix,
          """
          derivation {
            name = "styx-withref";
            system = builtins.currentSystem;
            builder = "/bin/sh";
            args = [ "-c" "/bin/mkdir $out && /bin/ln -s ${builtins.storePath "%s"} $out/dep && echo ${builtins.storePath "%s"} > $out/ref" ];
          }
          """
              .formatted(dep, dep));
      String out =
          Tiers.run(
                  work,
                  "nix-build",
                  "--option",
                  "substituters",
                  "",
                  "--no-out-link",
                  nix.toString())
              .trim();
      p.put("withref", StorePath.parse(out));
    }
    NixCacheFixture f =
        new NixCacheFixture(work, keyName, sk, Files.readString(pk).trim(), Map.copyOf(p));
    for (String c : compressions) {
      f.writeCache(c);
    }
    return f;
  }

  private Path writeCache(String compression) throws IOException, InterruptedException {
    Path dir = work.resolve("cache-" + compression);
    List<String> cmd = new ArrayList<>();
    cmd.addAll(
        List.of(
            "nix",
            "--extra-experimental-features",
            "nix-command",
            "copy",
            "--option",
            "substituters",
            "",
            "--to",
            "file://" + dir + "?compression=" + compression + "&secret-key=" + secretKeyFile));
    for (StorePath sp : paths.values()) {
      cmd.add(sp.toString());
    }
    Tiers.run(work, cmd.toArray(String[]::new));
    caches.put(compression, dir);
    return dir;
  }

  /**
   * A cache of the same paths with another compression Nix supports (e.g. {@code bzip2}), written
   * on first use.
   */
  public synchronized Path cacheDirFor(String compression)
      throws IOException, InterruptedException {
    Path d = caches.get(compression);
    return d != null ? d : writeCache(compression);
  }

  /** The fixture's scratch directory. */
  public Path workDir() {
    return work;
  }

  /** The cache directory for a compression ({@code xz}, {@code zstd}, {@code none}). */
  public synchronized Path cacheDir(String compression) {
    Path d = caches.get(compression);
    if (d == null) {
      throw new IllegalArgumentException("no cache with compression " + compression);
    }
    return d;
  }

  /** {@code file://} URL of a cache. */
  public String fileUrl(String compression) {
    return "file://" + cacheDir(compression);
  }

  /** {@code http://127.0.0.1:<port>} URL of a cache, served by a static server started lazily. */
  public synchronized String http(String compression) throws IOException {
    StaticHttpServer s = servers.get(compression);
    if (s == null) {
      s = new StaticHttpServer(cacheDir(compression));
      servers.put(compression, s);
    }
    return s.url();
  }

  /** A new static server over a cache, owned by the caller (e.g. to inject failures). */
  public StaticHttpServer newServer(String compression) throws IOException {
    return new StaticHttpServer(cacheDir(compression));
  }

  /** The signing key's name. */
  public String keyName() {
    return keyName;
  }

  /** Public key {@code name:base64} as in nix.conf trusted-public-keys. */
  public String publicKey() {
    return publicKey;
  }

  /** The Nix secret key file. */
  public Path secretKeyFile() {
    return secretKeyFile;
  }

  /** Every store path in the caches, by label. */
  public Map<String, StorePath> paths() {
    return paths;
  }

  /** Every store path in the caches. */
  public List<StorePath> storePaths() {
    return List.copyOf(paths.values());
  }

  /** The generated tree with every entry kind. */
  public StorePath tree() {
    return paths.get("tree");
  }

  /** A store path whose root is one regular file. */
  public StorePath singleFile() {
    return paths.get("file");
  }

  /** A store path whose root is a (dangling) symlink. */
  public StorePath symlink() {
    return paths.get("symlink");
  }

  /** A path built by nix-build that references {@link #tree()}. */
  public StorePath withReference() {
    return paths.get("withref");
  }

  static void deleteQuietly(Path p) {
    try {
      if (!Files.exists(p)) {
        return;
      }
      Files.walkFileTree(
          p,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
              Files.delete(f);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException ignored) {
      // best effort at JVM exit
    }
  }
}
