package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.Tiers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every path of Nix-made caches (xz, zstd, none) over file:// and http://127.0.0.1. */
class BinaryCacheClientNixTest {

  static List<String[]> sources() {
    List<String[]> out = new ArrayList<>();
    for (String c : NixCacheFixture.COMPRESSIONS) {
      out.add(new String[] {c, "file"});
      out.add(new String[] {c, "http"});
    }
    return out;
  }

  @ParameterizedTest(name = "{0} over {1}")
  @MethodSource("sources")
  void everyPathFetchesAndVerifies(String compression, String transport) throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    String url = transport.equals("file") ? fx.fileUrl(compression) : fx.http(compression);
    try (BinaryCacheClient c =
        BinaryCacheClient.builder(url).trustedKeys(NixKeyring.parse(fx.publicKey())).build()) {
      assertEquals("/nix/store", c.cacheInfo().storeDir());
      for (StorePath p : fx.storePaths()) {
        NarInfo ni = c.narInfo(p).orElseThrow();
        assertEquals(compression, ni.compression());
        byte[] nar;
        try (InputStream in = c.openNar(ni)) {
          nar = in.readAllBytes();
        }
        assertArrayEquals(dev.styx.nar.NarDumpNixTest.nixDumpPublic(Path.of(p.toString())), nar);
      }
      assertTrue(c.narInfo("00000000000000000000000000000000").isEmpty());
      assertTrue(Files.isDirectory(fx.cacheDir(compression).resolve("nar")));
    }
  }

  @org.junit.jupiter.api.Test
  void largeJdkPathFetchesOverHttpAndRestoresExactly() throws Exception {
    NixCacheFixture fx = NixCacheFixture.sharedJdk();
    StorePath p = fx.paths().get("jdk");
    Path out = Files.createTempDirectory("styx-jdk-restore").resolve("jdk");
    try (BinaryCacheClient c =
        BinaryCacheClient.builder(fx.http("zstd"))
            .trustedKeys(NixKeyring.parse(fx.publicKey()))
            .build()) {
      NarInfo ni = c.narInfo(p).orElseThrow();
      assertTrue(ni.narSize() > 200_000_000L, "JDK NAR unexpectedly small: " + ni.narSize());
      try (InputStream in = c.openNar(ni)) {
        dev.styx.nar.NarRestore.restore(in, out);
      }
      assertEquals(
          new dev.styx.nar.NarDigest(ni.narHash(), ni.narSize()), dev.styx.nar.NarDump.hash(out));
    } finally {
      Tiers.run(null, "rm", "-rf", out.getParent().toString());
    }
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"bzip2", "gzip", "br", "lz4", "lzma", "lzip", "compress"})
  void otherNixCompressionsFetchAndVerify(String compression) throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    Path dir = fx.cacheDirFor(compression);
    try (BinaryCacheClient c =
        BinaryCacheClient.builder("file://" + dir)
            .trustedKeys(NixKeyring.parse(fx.publicKey()))
            .build()) {
      for (StorePath p : fx.storePaths()) {
        NarInfo ni = c.narInfo(p).orElseThrow();
        assertEquals(compression, ni.compression());
        try (InputStream in = c.openNar(ni)) {
          assertArrayEquals(
              dev.styx.nar.NarDumpNixTest.nixDumpPublic(Path.of(p.toString())), in.readAllBytes());
        }
      }
    }
  }
}
