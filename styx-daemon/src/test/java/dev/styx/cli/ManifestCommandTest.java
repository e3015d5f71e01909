package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.server.ManifesterServer;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.StaticHttpServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code styx manifest get|show|nar} against a real manifester over a Nix-made cache. */
class ManifestCommandTest {
  @TempDir Path tmp;

  @Test
  void getShowAndNarRoundTripToTheNarHash() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    NixSecretKey signer = NixSecretKey.generate("styx-cli-test-1");
    Path keyFile = tmp.resolve("sk");
    Files.writeString(keyFile, signer.toKeyFileString());
    try (StaticHttpServer up = fx.newServer("xz");
        ManifesterServer s = manifester(keyFile, up, fx)) {
      String pub = signer.publicKey().toString();
      for (StorePath p : fx.storePaths()) {
        Path man = tmp.resolve(p.hashPart() + ".manifest");
        get(s, up, pub, p, man);
        CliRun show =
            CliRun.run(null, "manifest", "show", "--entries", "--key", pub, man.toString());
        assertEquals(0, show.exitCode(), show.stderr());
        assertTrue(show.out().contains("StorePath:  " + p), show.out());
        assertTrue(show.out().contains("Verified:   yes"), show.out());
        NarInfo ni =
            NarInfo.parse(Files.readString(fx.cacheDir("xz").resolve(p.hashPart() + ".narinfo")));
        assertEquals(ni.narHash(), rebuiltNarHash(s.url(), pub, man), p.toString());
      }
      // A manifest signed by another key is refused, and nothing is written.
      Path bad = tmp.resolve("bad");
      CliRun wrongKey =
          CliRun.run(
              null,
              "manifest",
              "get",
              "--manifester",
              s.url(),
              "--upstream",
              up.url(),
              "--key",
              NixSecretKey.generate("styx-cli-test-1").publicKey().toString(),
              fx.tree().toString(),
              bad.toString());
      assertEquals(1, wrongKey.exitCode());
      assertTrue(wrongKey.stderr().contains("not valid for any trusted key"), wrongKey.stderr());
      assertTrue(wrongKey.stderr().startsWith("styx manifest get: "), wrongKey.stderr());
      assertFalse(Files.exists(bad));
      CliRun notAllowed =
          CliRun.run(
              null,
              "manifest",
              "get",
              "--manifester",
              s.url(),
              "--upstream",
              "http://127.0.0.1:1/nope",
              "--key",
              pub,
              fx.tree().toString(),
              bad.toString());
      assertEquals(1, notAllowed.exitCode());
      assertTrue(notAllowed.stderr().contains("HTTP 403"), notAllowed.stderr());
      // No manifester there: the error says so in words (the JDK's exception has no message).
      CliRun down =
          CliRun.run(
              null,
              "manifest",
              "get",
              "--manifester",
              "http://127.0.0.1:1",
              "--upstream",
              up.url(),
              "--key",
              pub,
              fx.tree().toString(),
              bad.toString());
      assertEquals(1, down.exitCode());
      assertTrue(
          down.stderr()
              .startsWith(
                  "styx manifest get: POST http://127.0.0.1:1/manifest failed: cannot connect"),
          down.stderr());
      assertTrue(down.stderr().contains("gave up after 4 attempts"), down.stderr());
      assertFalse(Files.exists(bad));
      assertEquals(
          2,
          CliRun.run(null, "manifester", "--listen", "127.0.0.1:0").exitCode(),
          "missing options is a usage error");
    }
  }

  @Test
  void largeManifestIsServedAsChunksAndJoinedByEveryCommand() throws Exception {
    // 3,000 files: a manifest of ~150 KB encoded, stored as 64 KiB chunks behind an envelope.
    Path tree = Files.createDirectories(tmp.resolve("src/styx-many-files"));
    java.util.Random r = new java.util.Random(3000);
    for (int i = 0; i < 3000; i++) {
      byte[] b = new byte[225 + r.nextInt(2000)];
      r.nextBytes(b);
      Files.write(tree.resolve(String.format("file-%05d", i)), b);
    }
    NixCacheFixture fx =
        NixCacheFixture.create(
            tmp.resolve("nix"),
            "styx-cli-many-1",
            java.util.Map.of("many", tree),
            List.of("zstd"),
            false);
    StorePath p = fx.paths().get("many");
    NixSecretKey signer = NixSecretKey.generate("styx-cli-test-2");
    Path keyFile = tmp.resolve("sk");
    Files.writeString(keyFile, signer.toKeyFileString());
    String pub = signer.publicKey().toString();
    try (StaticHttpServer up = fx.newServer("zstd");
        ManifesterServer s = manifester(keyFile, up, fx)) {
      Path man = tmp.resolve("joined.manifest");
      get(s, up, pub, p, man);
      // The manifester stores and serves the small envelope ...
      byte[] served =
          Files.readAllBytes(
              s.store().manifestPath(dev.styx.manifest.ManifestKey.of(up.url(), p.toString())));
      var cm =
          org.junit.jupiter.api.Assertions.assertInstanceOf(
              dev.styx.manifest.ChunkedManifest.class,
              dev.styx.manifest.ManifestObject.decode(served));
      assertTrue(cm.digests().size() >= 2, cm.digests().size() + " chunks");
      // ... and `get` writes the manifest joined, readable without a chunk store.
      assertTrue(
          dev.styx.manifest.ManifestObject.decode(Files.readAllBytes(man))
              instanceof dev.styx.manifest.SignedManifest);
      CliRun show = CliRun.run(null, "manifest", "show", "--key", pub, man.toString());
      assertEquals(0, show.exitCode(), show.stderr());
      assertTrue(show.out().contains("Entries:    3001 "), show.out());
      assertTrue(show.out().contains("Manifest:   " + cm.size() + " bytes"), show.out());

      // The envelope as served needs --chunks, and says so without it.
      Path envelope = tmp.resolve("envelope.manifest");
      Files.write(envelope, served);
      CliRun bare = CliRun.run(null, "manifest", "show", envelope.toString());
      assertEquals(1, bare.exitCode());
      assertTrue(
          bare.stderr().contains("stored as " + cm.digests().size() + " chunks"), bare.stderr());
      CliRun joined =
          CliRun.run(
              null, "manifest", "show", "--chunks", s.url(), "--key", pub, envelope.toString());
      assertEquals(0, joined.exitCode(), joined.stderr());
      assertTrue(joined.out().contains("Verified:   yes"), joined.out());
      NarInfo ni =
          NarInfo.parse(Files.readString(fx.cacheDir("zstd").resolve(p.hashPart() + ".narinfo")));
      assertEquals(ni.narHash(), rebuiltNarHash(s.url(), pub, envelope));
    }
  }

  /** Hash of the NAR `styx manifest nar --chunks URL --key PUB MANIFEST` writes (must exit 0). */
  private static NixHash rebuiltNarHash(String chunks, String pub, Path manifest) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    CliRun nar =
        CliRun.run(
            null,
            new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(), md),
            "manifest",
            "nar",
            "--chunks",
            chunks,
            "--key",
            pub,
            manifest.toString());
    assertEquals(0, nar.exitCode(), nar.stderr());
    return NixHash.sha256(md.digest());
  }

  /** A manifester over {@code up}'s cache, signing with the key in {@code keyFile}. */
  private ManifesterServer manifester(Path keyFile, StaticHttpServer up, NixCacheFixture fx)
      throws Exception {
    return new ManifesterServer(
        new ManifesterServer.Config(
            new InetSocketAddress("127.0.0.1", 0),
            tmp.resolve("store"),
            List.of(NixSecretKey.read(keyFile)),
            List.of(up.url()),
            NixKeyring.of(NixPublicKey.parse(fx.publicKey())),
            3,
            2));
  }

  /** `styx manifest get` of {@code p} into {@code out}, which must succeed. */
  private static void get(
      ManifesterServer s, StaticHttpServer up, String pub, StorePath p, Path out) {
    CliRun get =
        CliRun.run(
            null,
            "manifest",
            "get",
            "--manifester",
            s.url(),
            "--upstream",
            up.url(),
            "--key",
            pub,
            p.toString(),
            out.toString());
    assertEquals(0, get.exitCode(), get.stderr());
  }
}
