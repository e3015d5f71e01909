package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/** Builds manifests from real directory trees for tests (walks in NAR order). */
final class TestManifests {
  private TestManifests() {}

  static final String STORE_PATH = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-test-1.0";
  static final String NAR_HASH = "sha256:" + "0".repeat(52);

  /** Manifest of {@code root} plus a map of every chunk's bytes. */
  static Manifest ofTree(Path root, Map<ChunkDigest, byte[]> chunks) throws Exception {
    Map<ChunkDigest, byte[]> store = chunks == null ? new ConcurrentHashMap<>() : chunks;
    ManifestBuilder b =
        new ManifestBuilder(
            (buf, len) -> {
              byte[] c = java.util.Arrays.copyOf(buf, len);
              ChunkDigest d = ChunkDigest.of(c);
              store.put(d, c);
              return java.util.concurrent.CompletableFuture.completedFuture(d);
            });
    walk(root, "/", b);
    return b.build(STORE_PATH, NAR_HASH, 1234, List.of());
  }

  private static void walk(Path p, String path, ManifestBuilder b) throws IOException {
    if (Files.isSymbolicLink(p)) {
      b.symlink(path, Files.readSymbolicLink(p).toString());
    } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      b.directory(path);
      List<Path> kids = new ArrayList<>();
      try (Stream<Path> s = Files.list(p)) {
        s.forEach(kids::add);
      }
      kids.sort(Comparator.comparing(k -> k.getFileName().toString(), ManifestPaths::compareNames));
      for (Path k : kids) {
        walk(k, ManifestPaths.child(path, k.getFileName().toString()), b);
      }
    } else {
      byte[] data = Files.readAllBytes(p);
      b.regularFile(path, Files.isExecutable(p), data.length, new ByteArrayInputStream(data));
    }
  }
}
