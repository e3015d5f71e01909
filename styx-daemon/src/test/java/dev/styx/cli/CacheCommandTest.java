package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.nix.StorePath;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code styx cache get} against Nix-made caches over http://127.0.0.1 and file://. */
class CacheCommandTest {
  @TempDir Path tmp;

  @Test
  void getsEveryPathFromEveryCache() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    int i = 0;
    for (String c : NixCacheFixture.COMPRESSIONS) {
      for (String url : new String[] {fx.http(c), fx.fileUrl(c)}) {
        for (StorePath p : fx.storePaths()) {
          Path dir = tmp.resolve("out" + i++);
          CliRun r =
              CliRun.run(
                  null, "cache", "get", "--key", fx.publicKey(), url, p.toString(), dir.toString());
          assertEquals(0, r.exitCode(), r.stderr());
          assertArrayEquals(
              NarCommandTest.nixDump(Path.of(p.toString())),
              NarCommandTest.nixDump(dir),
              p + " from " + url);
        }
      }
    }
  }

  @Test
  void wrongKeyIsRejectedAndNothingIsWritten() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    String otherKey = NixSecretKey.generate(fx.keyName()).publicKey().toString();
    Path dir = tmp.resolve("out");
    CliRun r =
        CliRun.run(
            null,
            "cache",
            "get",
            "--key",
            otherKey,
            fx.http("xz"),
            fx.tree().baseName(),
            dir.toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.stderr().contains("no valid signature by a trusted key"), r.stderr());
    assertFalse(Files.exists(dir));
  }

  @Test
  void corruptNarIsRejectedAndNothingIsWritten() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    Path cache = tmp.resolve("cache");
    Path src = fx.cacheDir("none");
    try (var s = Files.walk(src)) {
      for (Path f : s.toList()) {
        Path d = cache.resolve(src.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(d);
        } else {
          Files.copy(f, d);
        }
      }
    }
    var ni =
        dev.styx.narinfo.NarInfo.parse(
            Files.readString(cache.resolve(fx.tree().hashPart() + ".narinfo")));
    Path nar = cache.resolve(ni.url());
    byte[] b = Files.readAllBytes(nar);
    long blobAt =
        dev.styx.nar.NarListing.read(new java.io.ByteArrayInputStream(b)).entries().stream()
            .filter(e -> e.path().toString().equals("blob.bin"))
            .findFirst()
            .orElseThrow()
            .contentsOffset();
    b[(int) blobAt + 1000] ^= 0x40; // inside a file's contents: the NAR stays well-formed
    Files.write(nar, b);
    Path dir = tmp.resolve("out");
    CliRun r =
        CliRun.run(
            null,
            "cache",
            "get",
            "--key",
            fx.publicKey(),
            "file://" + cache,
            fx.tree().toString(),
            dir.toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.stderr().contains("FileHash"), r.stderr());
    assertFalse(Files.exists(dir));
    try (var s = Files.list(tmp)) {
      assertEquals(
          1, s.filter(p -> p.getFileName().toString().contains("styx-restore")).count() + 1);
    }
  }

  @Test
  void missingPathIsAClearError() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    CliRun r =
        CliRun.run(
            null,
            "cache",
            "get",
            "--key",
            fx.publicKey(),
            fx.http("zstd"),
            "/nix/store/00000000000000000000000000000000-nope",
            tmp.resolve("x").toString());
    assertEquals(1, r.exitCode());
    assertTrue(r.stderr().contains("does not have"), r.stderr());
  }
}
