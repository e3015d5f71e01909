package dev.styx.server;

import dev.styx.nix.StorePath;
import dev.styx.testing.GeneratedTree;
import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real corpus of >= 20 store paths, including a whole JDK, in two binary caches made by Debian's
 * Nix ({@code nix copy --to file://...?compression=xz|zstd&secret-key=...}). Building the xz cache
 * of a JDK takes a while, so the corpus is kept in {@code target/nix-corpus-v1} and reused by later
 * runs of the same build tree (a marker file records the store paths once both caches are whole).
 */
final class NixCorpus {
  static final String JDK = "/usr/lib/jvm/java-17-openjdk-amd64";
  static final List<String> SOURCES =
      List.of(
          JDK,
          "/usr/lib/git-core",
          "/usr/share/perl/5.36/unicore",
          "/usr/lib/x86_64-linux-gnu/perl-base",
          "/usr/include/linux",
          "/usr/share/doc/git",
          "/usr/share/doc/bash",
          "/usr/share/zoneinfo/America",
          "/usr/share/zoneinfo/Europe",
          "/usr/lib/python3.11/json",
          "/usr/lib/python3.11/email",
          "/usr/lib/python3.11/asyncio",
          "/usr/lib/python3.11/encodings",
          "/usr/lib/python3.11/unittest",
          "/usr/lib/python3.11/xml",
          "/usr/lib/python3.11/sqlite3",
          "/usr/bin/bash");

  final Path dir;
  final String publicKey;
  final List<StorePath> paths;

  private NixCorpus(Path dir, String publicKey, List<StorePath> paths) {
    this.dir = dir;
    this.publicKey = publicKey;
    this.paths = paths;
  }

  Path cache(String compression) {
    return dir.resolve("cache-" + compression);
  }

  StorePath jdk() {
    return paths.stream()
        .filter(p -> p.name().equals("java-17-openjdk-amd64"))
        .findFirst()
        .orElseThrow();
  }

  private static NixCorpus cached;

  static synchronized NixCorpus get() throws Exception {
    if (cached == null) {
      cached = load(Path.of("target", "nix-corpus-v1").toAbsolutePath());
    }
    return cached;
  }

  private static NixCorpus load(Path dir) throws Exception {
    Tiers.requireNix();
    Path marker = dir.resolve("paths");
    if (Files.exists(marker)) {
      List<StorePath> ps = Files.readAllLines(marker).stream().map(StorePath::parse).toList();
      return new NixCorpus(dir, Files.readString(dir.resolve("public-key")).trim(), ps);
    }
    if (Files.exists(dir)) {
      Tiers.run(null, "rm", "-rf", dir.toString());
    }
    Files.createDirectories(dir);
    Tiers.run(
        dir,
        "nix-store",
        "--generate-binary-cache-key",
        "styx-corpus-1",
        "secret-key",
        "public-key");
    Map<String, StorePath> ps = new LinkedHashMap<>();
    for (String s : SOURCES) {
      if (!Files.exists(Path.of(s))) {
        continue;
      }
      ps.put(s, StorePath.parse(Tiers.run(dir, "nix-store", "--add", s).trim()));
    }
    Path src = Files.createDirectories(dir.resolve("src"));
    Path tree = GeneratedTree.create(src.resolve("styx-generated-tree"));
    ps.put("tree", StorePath.parse(Tiers.run(dir, "nix-store", "--add", tree.toString()).trim()));
    Path file = src.resolve("styx-one-file");
    Files.writeString(file, "a store path that is one regular file\n");
    ps.put("file", StorePath.parse(Tiers.run(dir, "nix-store", "--add", file.toString()).trim()));
    Path link = src.resolve("styx-one-symlink");
    Files.createSymbolicLink(link, Path.of("/nonexistent/target"));
    ps.put("link", StorePath.parse(Tiers.run(dir, "nix-store", "--add", link.toString()).trim()));
    Path nix = dir.resolve("withref.nix");
    StorePath dep = ps.get("tree");
    Files.writeString(
        nix,
        """
        derivation {
          name = "styx-corpus-withref";
          system = builtins.currentSystem;
          builder = "/bin/sh";
          args = [ "-c" "/bin/mkdir $out && echo ${builtins.storePath "%s"} > $out/ref" ];
        }
        """
            .formatted(dep));
    ps.put(
        "withref",
        StorePath.parse(
            Tiers.run(
                    dir,
                    "nix-build",
                    "--option",
                    "substituters",
                    "",
                    "--no-out-link",
                    nix.toString())
                .trim()));
    // xz at level 0 with parallel compression keeps the JDK under a minute; still Nix-made xz.
    for (String c : List.of("xz&compression-level=0&parallel-compression=true", "zstd")) {
      String name = c.contains("&") ? c.substring(0, c.indexOf('&')) : c;
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "nix",
                  "--extra-experimental-features",
                  "nix-command",
                  "copy",
                  "--option",
                  "substituters",
                  "",
                  "--to",
                  "file://"
                      + dir.resolve("cache-" + name)
                      + "?compression="
                      + c
                      + "&secret-key="
                      + dir.resolve("secret-key")));
      ps.values().forEach(p -> cmd.add(p.toString()));
      Tiers.run(dir, cmd.toArray(String[]::new));
    }
    List<StorePath> list = List.copyOf(ps.values());
    Files.write(dir.resolve("paths.tmp"), list.stream().map(StorePath::toString).toList());
    Files.move(dir.resolve("paths.tmp"), marker);
    return new NixCorpus(dir, Files.readString(dir.resolve("public-key")).trim(), list);
  }
}
