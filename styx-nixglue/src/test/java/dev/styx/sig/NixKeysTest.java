package dev.styx.sig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NixKeysTest {
  @TempDir Path tmp;

  @Test
  void nixGeneratedKeysSignAndVerify() throws Exception {
    Tiers.requireNix();
    Tiers.run(
        tmp,
        "nix-store",
        "--generate-binary-cache-key",
        "k1",
        tmp.resolve("sk").toString(),
        tmp.resolve("pk").toString());
    NixSecretKey sk = NixSecretKey.read(tmp.resolve("sk"));
    NixPublicKey pk = NixPublicKey.parse(Files.readString(tmp.resolve("pk")));
    assertEquals("k1", sk.name());
    assertEquals(pk, sk.publicKey());
    assertEquals(Files.readString(tmp.resolve("sk")).trim(), sk.toKeyFileString());
    assertFalse(sk.toString().contains(sk.toKeyFileString().substring(3)), "key material leaked");
    NixSignature sig = sk.sign("hello");
    assertTrue(pk.verify("hello", sig));
    assertFalse(pk.verify("hellO", sig));
    assertEquals(sig, NixSignature.parse(sig.toString()));
  }

  @Test
  void keyringNeedsOneValidSignatureByATrustedName() {
    NixSecretKey a = NixSecretKey.generate("a");
    NixSecretKey b = NixSecretKey.generate("b");
    NixSecretKey fakeA = NixSecretKey.generate("a");
    NixKeyring ring = NixKeyring.parse(a.publicKey() + "  \n " + b.publicKey());
    assertEquals(2, ring.keys().size());
    String msg = "1;/nix/store/x;sha256:y;1;";
    assertTrue(ring.verifiesAny(msg, List.of(a.sign(msg))));
    assertTrue(ring.verifiesAny(msg, List.of(fakeA.sign(msg), b.sign(msg))));
    assertFalse(ring.verifiesAny(msg, List.of(fakeA.sign(msg))));
    assertFalse(ring.verifiesAny(msg, List.of()));
    assertFalse(NixKeyring.of().verifiesAny(msg, List.of(a.sign(msg))));
    NixSignature renamed = new NixSignature("b", a.sign(msg).signature());
    assertFalse(ring.verifiesAny(msg, List.of(renamed)));
    assertThrows(
        IllegalArgumentException.class, () -> NixKeyring.of(a.publicKey(), fakeA.publicKey()));
  }

  @Test
  void malformedKeysAreRejected() {
    NixSecretKey a = NixSecretKey.generate("a");
    assertThrows(IllegalArgumentException.class, () -> NixPublicKey.parse("nocolon"));
    assertThrows(IllegalArgumentException.class, () -> NixPublicKey.parse("a:!!!"));
    assertThrows(IllegalArgumentException.class, () -> NixPublicKey.parse("a:AAAA"));
    assertThrows(IllegalArgumentException.class, () -> NixSignature.parse("a:AAAA"));
    // A secret key whose public half does not belong to its seed.
    byte[] raw = Base64.getDecoder().decode(a.toKeyFileString().substring(2));
    raw[40] ^= 1;
    String broken = "a:" + Base64.getEncoder().encodeToString(raw);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NixSecretKey.parse(broken));
    assertTrue(e.getMessage().contains("does not match"), e.getMessage());
  }
}
