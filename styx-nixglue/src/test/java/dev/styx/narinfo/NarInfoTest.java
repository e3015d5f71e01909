package dev.styx.narinfo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NarInfoTest {
  static final String SAMPLE =
      """
      StorePath: /nix/store/v2gmil7hfmask708qz71avsmrdfkxjcs-withref
      URL: nar/14pns7cal4ny4vz3v33b3cknhh8i3yi6sgbzpxmmvl1zh9pskf66.nar.xz
      Compression: xz
      FileHash: sha256:14pns7cal4ny4vz3v33b3cknhh8i3yi6sgbzpxmmvl1zh9pskf66
      FileSize: 244
      NarHash: sha256:0zz3xj1d3rn18bz1msbzvzq9ha7avkcd00nv8wk8vzs0hlym6k09
      NarSize: 560
      References: pny4c91lvxsl47s2s963hmzjbdry8rcn-pkg
      Deriver: 3xhqgdbz4r078ir5z8fv8izhjsxxhbzs-withref.drv
      Sig: test-cache-1:9p7f0Wl80yfdwprApWdVRpN2L/gONun5KoDaMF4lVKgpKK/mzsUK16+2jRT8xC4KdwtGp8zAilFgrL3axaHiBg==
      Sig: test-cache-2:FZS01Q6XmZ/Ti22+rj/2vXsydTP5wbjPXUc4se/OvYgmY+GNU2y5amDsGaxnqNNLtsgA+4kvHthBNSrqyG+iCw==
      """;

  @Test
  void parsesEveryFieldAndRoundTrips() {
    NarInfo ni = NarInfo.parse(SAMPLE);
    assertEquals("withref", ni.storePath().name());
    assertEquals("xz", ni.compression());
    assertEquals(244, ni.fileSize());
    assertEquals(560, ni.narSize());
    assertEquals(
        List.of(StorePath.parseBaseName("pny4c91lvxsl47s2s963hmzjbdry8rcn-pkg")), ni.references());
    assertEquals("withref.drv", ni.deriver().name());
    assertEquals(2, ni.sigs().size());
    assertNull(ni.ca());
    assertEquals(SAMPLE, ni.serialize());
    assertEquals(
        "1;/nix/store/v2gmil7hfmask708qz71avsmrdfkxjcs-withref;"
            + "sha256:0zz3xj1d3rn18bz1msbzvzq9ha7avkcd00nv8wk8vzs0hlym6k09;560;"
            + "/nix/store/pny4c91lvxsl47s2s963hmzjbdry8rcn-pkg",
        ni.fingerprint());
  }

  @Test
  void unknownKeysAreKeptInOrder() {
    String text = SAMPLE + "X-Zeta: 1\nCA: fixed:r:sha256:abc\nX-Alpha: two words\n";
    NarInfo ni = NarInfo.parse(text);
    assertEquals(List.of(Map.entry("X-Zeta", "1"), Map.entry("X-Alpha", "two words")), ni.extra());
    assertEquals("fixed:r:sha256:abc", ni.ca());
    NarInfo again = NarInfo.parse(ni.serialize());
    assertEquals(ni.extra(), again.extra());
    assertEquals(ni.serialize(), again.serialize());
  }

  @Test
  void defaultsAndErrors() {
    String noCompression = SAMPLE.replace("Compression: xz\n", "");
    assertEquals("bzip2", NarInfo.parse(noCompression).compression());
    assertNull(
        NarInfo.parse(SAMPLE.replaceAll("Deriver: .*", "Deriver: unknown-deriver")).deriver());
    assertThrows(
        NarInfoFormatException.class, () -> NarInfo.parse(SAMPLE.replaceAll("NarHash: .*\n", "")));
    assertThrows(
        NarInfoFormatException.class,
        () -> NarInfo.parse(SAMPLE.replace("NarSize: 560", "NarSize: -1")));
    assertThrows(NarInfoFormatException.class, () -> NarInfo.parse(SAMPLE + "NarSize: 5\n"));
    assertThrows(NarInfoFormatException.class, () -> NarInfo.parse(SAMPLE + "garbage\n"));
    NarInfoFormatException e =
        assertThrows(
            NarInfoFormatException.class, () -> NarInfo.parse(SAMPLE.replace("-pkg", "-p/kg")));
    assertTrue(e.getMessage().contains("References"), e.getMessage());
  }

  @Test
  void nixCacheInfo() {
    NixCacheInfo ci =
        NixCacheInfo.parse("StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\nFoo: bar\n");
    assertEquals("/nix/store", ci.storeDir());
    assertTrue(ci.wantMassQuery());
    assertEquals(40, ci.priority());
    assertEquals(
        "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\nFoo: bar\n", ci.serialize());
    assertThrows(NarInfoFormatException.class, () -> NixCacheInfo.parse("Priority: 1\n"));
  }

  @Test
  void realNixNarinfosRoundTripAndOurSignatureEqualsNixs() throws Exception {
    NixCacheFixture fx = NixCacheFixture.shared();
    NixSecretKey sk = NixSecretKey.read(fx.secretKeyFile());
    NixPublicKey pk = NixPublicKey.parse(fx.publicKey());
    assertEquals(pk, sk.publicKey());
    for (String c : NixCacheFixture.COMPRESSIONS) {
      for (StorePath p : fx.storePaths()) {
        Path f = fx.cacheDir(c).resolve(p.hashPart() + ".narinfo");
        String text = Files.readString(f);
        NarInfo ni = NarInfo.parse(text);
        assertEquals(text, ni.serialize(), "serialize() differs from Nix's text for " + f);
        assertEquals(p, ni.storePath());
        assertEquals(1, ni.sigs().size());
        // Ed25519 is deterministic: signing the fingerprint again gives Nix's exact bytes.
        assertEquals(ni.sigs().get(0), sk.sign(ni.fingerprint()));
        assertTrue(ni.isSignedBy(NixKeyring.of(pk)));
        assertTrue(!ni.isSignedBy(NixKeyring.of(NixSecretKey.generate(fx.keyName()).publicKey())));
      }
    }
  }
}
