package dev.styx.nix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class NixHashTest {
  static final String NIX32 = "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
  static final String HEX =
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  static final String SRI = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

  @Test
  void allFormsAgree() {
    NixHash a = NixHash.parse(NIX32);
    assertEquals(a, NixHash.parse(HEX));
    assertEquals(a, NixHash.parse(SRI));
    assertEquals(NIX32, a.toNix32String());
    assertEquals(NIX32, a.toString());
    assertEquals(HEX, a.toBase16String());
    assertEquals(SRI, a.toSri());
  }

  @Test
  void rejects() {
    assertThrows(IllegalArgumentException.class, () -> NixHash.parse("sha256:abc"));
    assertThrows(IllegalArgumentException.class, () -> NixHash.parse("sha999:" + "0".repeat(52)));
    assertThrows(IllegalArgumentException.class, () -> NixHash.parse("0".repeat(52)));
    assertThrows(IllegalArgumentException.class, () -> NixHash.parse("sha256-AAAA"));
  }
}
