package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.sig.NixSignature;
import java.util.List;
import org.junit.jupiter.api.Test;

class SignedManifestTest {
  @Test
  void signsVerifiesAndRoundTripsThroughTheStoreObject() throws Exception {
    NixSecretKey k = NixSecretKey.generate("styx-test-1");
    Manifest m = ManifestCodecTest.sample();
    SignedManifest sm = SignedManifest.sign(m, k);
    assertTrue(sm.signatures().getFirst().toString().startsWith("styx-test-1:"));
    byte[] obj = ManifestObject.wrap(sm);
    assertTrue(ManifestObject.isZstd(obj));
    SignedManifest back = ManifestObject.unwrap(obj);
    assertEquals(sm, back);
    assertEquals(m, back.verify(NixKeyring.of(k.publicKey())));
    assertEquals(sm, ManifestObject.unwrap(sm.encode()), "bare envelope accepted too");
    assertArrayEquals(ManifestCodec.encode(m), back.manifestBytes());
  }

  @Test
  void rejectsWrongKeyUntrustedNameAndTamperedBytes() throws Exception {
    NixSecretKey k = NixSecretKey.generate("styx-test-1");
    NixSecretKey sameNameOtherKey = NixSecretKey.generate("styx-test-1");
    NixSecretKey otherName = NixSecretKey.generate("other");
    SignedManifest sm = SignedManifest.sign(ManifestCodecTest.sample(), k);
    var e =
        assertThrows(
            ManifestFormatException.class,
            () -> sm.verify(NixKeyring.of(sameNameOtherKey.publicKey())));
    assertTrue(e.getMessage().contains("not valid for any trusted key"), e.getMessage());
    assertThrows(
        ManifestFormatException.class, () -> sm.verify(NixKeyring.of(otherName.publicKey())));
    assertThrows(ManifestFormatException.class, () -> sm.verify(NixKeyring.of()));
    byte[] tampered = sm.manifestBytes();
    tampered[tampered.length - 1] ^= 1;
    SignedManifest t = new SignedManifest(tampered, sm.signatures());
    assertThrows(ManifestFormatException.class, () -> t.verify(NixKeyring.of(k.publicKey())));
    // A valid signature by a trusted key is enough even if another is junk.
    SignedManifest two =
        new SignedManifest(
            sm.manifestBytes(),
            List.of(new NixSignature("junk", new byte[64]), sm.signatures().getFirst()));
    assertEquals(
        ManifestCodecTest.sample(),
        SignedManifest.decode(two.encode()).verify(NixKeyring.of(k.publicKey())));
  }

  @Test
  void rejectsMalformedEnvelopes() throws Exception {
    NixSecretKey k = NixSecretKey.generate("n");
    byte[] enc = SignedManifest.sign(ManifestCodecTest.sample(), k).encode();
    assertThrows(ManifestFormatException.class, () -> SignedManifest.decode(new byte[0]));
    assertThrows(
        ManifestFormatException.class,
        () -> SignedManifest.decode(java.util.Arrays.copyOf(enc, enc.length - 3)));
    assertThrows(IllegalArgumentException.class, () -> new SignedManifest(new byte[1], List.of()));
    assertThrows(
        ManifestFormatException.class,
        () -> ManifestObject.unwrap(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0}));
  }

  @Test
  void keyIsStablePerUpstreamAndPath() {
    String a = ManifestKey.of("http://127.0.0.1:8080/cache/", TestManifests.STORE_PATH);
    assertEquals(
        a, ManifestKey.of("http://127.0.0.1:8080/cache", "0123456789abcdfghijklmnpqrsvwxyz"));
    assertTrue(a.startsWith("0123456789abcdfghijklmnpqrsvwxyz-") && a.length() == 32 + 1 + 16, a);
    assertTrue(!a.equals(ManifestKey.of("http://127.0.0.1:8081/cache", TestManifests.STORE_PATH)));
    assertThrows(
        IllegalArgumentException.class, () -> ManifestKey.of("ftp://x/", TestManifests.STORE_PATH));
    assertThrows(
        IllegalArgumentException.class, () -> ManifestKey.of("http://x/", "/nix/store/../etc"));
  }
}
