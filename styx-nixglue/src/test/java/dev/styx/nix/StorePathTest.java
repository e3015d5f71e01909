package dev.styx.nix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StorePathTest {
  static final String H = "v2gmil7hfmask708qz71avsmrdfkxjcs";

  @Test
  void parsesAndPrints() {
    StorePath p = StorePath.parse("/nix/store/" + H + "-withref");
    assertEquals(H, p.hashPart());
    assertEquals("withref", p.name());
    assertEquals(H + "-withref", p.baseName());
    assertEquals("/nix/store/" + H + "-withref", p.toString());
    assertEquals(p, StorePath.parseBaseName(H + "-withref"));
    assertEquals(20, p.hashBytes().length);
  }

  @Test
  void nameRules() {
    assertTrue(StorePath.isValid("/nix/store/" + H + "-a+b-c.d_e?f=g"));
    assertTrue(StorePath.isValid("/nix/store/" + H + "-" + "x".repeat(211)));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-" + "x".repeat(212)));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-.hidden"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-a/b"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-caf\u00e9"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-a b"));
    assertFalse(StorePath.isValid("/nix/store/" + H.replace('v', 'e') + "-x"));
    assertFalse(StorePath.isValid("/nix/store/" + H.substring(1) + "-x"));
    assertFalse(StorePath.isValid("/usr/store/" + H + "-x"));
    assertThrows(IllegalArgumentException.class, () -> StorePath.parseBaseName(H + "_x"));
  }
}
