package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SignedManifestTest {
  static KeyPair keys() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  @Test
  void signsVerifiesAndRoundTripsThroughTheStoreObject() throws Exception {
    KeyPair k = keys();
    Manifest m = ManifestCodecTest.sample();
    SignedManifest sm = SignedManifest.sign(m, "styx-test-1", k.getPrivate());
    assertTrue(sm.signatures().getFirst().startsWith("styx-test-1:"));
    byte[] obj = ManifestObject.wrap(sm);
    assertTrue(ManifestObject.isZstd(obj));
    SignedManifest back = ManifestObject.unwrap(obj);
    assertEquals(sm, back);
    assertEquals(m, back.verify(Map.of("styx-test-1", k.getPublic())));
    assertEquals(sm, ManifestObject.unwrap(sm.encode()), "bare envelope accepted too");
    assertArrayEquals(ManifestCodec.encode(m), back.manifestBytes());
  }

  @Test
  void rejectsWrongKeyUntrustedNameAndTamperedBytes() throws Exception {
    KeyPair k = keys();
    KeyPair other = keys();
    SignedManifest sm =
        SignedManifest.sign(ManifestCodecTest.sample(), "styx-test-1", k.getPrivate());
    Map<String, PublicKey> wrongKey = Map.of("styx-test-1", other.getPublic());
    var e = assertThrows(ManifestFormatException.class, () -> sm.verify(wrongKey));
    assertTrue(e.getMessage().contains("not valid for any trusted key"), e.getMessage());
    assertThrows(ManifestFormatException.class, () -> sm.verify(Map.of("other", k.getPublic())));
    assertThrows(ManifestFormatException.class, () -> sm.verify(Map.of()));
    byte[] tampered = sm.manifestBytes();
    tampered[tampered.length - 1] ^= 1;
    SignedManifest t = new SignedManifest(tampered, sm.signatures());
    assertThrows(
        ManifestFormatException.class, () -> t.verify(Map.of("styx-test-1", k.getPublic())));
    // A second, valid signature by a trusted key is enough even if the first is junk.
    SignedManifest two =
        new SignedManifest(sm.manifestBytes(), List.of("junk:AAAA", sm.signatures().getFirst()));
    assertEquals(
        ManifestCodecTest.sample(),
        SignedManifest.decode(two.encode()).verify(Map.of("styx-test-1", k.getPublic())));
  }

  @Test
  void rejectsMalformedEnvelopes() throws Exception {
    KeyPair k = keys();
    byte[] enc = SignedManifest.sign(ManifestCodecTest.sample(), "n", k.getPrivate()).encode();
    assertThrows(ManifestFormatException.class, () -> SignedManifest.decode(new byte[0]));
    assertThrows(
        ManifestFormatException.class,
        () -> SignedManifest.decode(java.util.Arrays.copyOf(enc, enc.length - 3)));
    assertThrows(IllegalArgumentException.class, () -> new SignedManifest(new byte[1], List.of()));
    assertThrows(
        IllegalArgumentException.class, () -> new SignedManifest(new byte[1], List.of("nocolon")));
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
