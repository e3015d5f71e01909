package dev.styx.nix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    assertTrue(StorePath.isValid("/nix/store/" + H + "-.hidden"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-."));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-.."));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-.-x"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-..-x"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-a/b"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-caf\u00e9"));
    assertFalse(StorePath.isValid("/nix/store/" + H + "-a b"));
    assertFalse(StorePath.isValid("/nix/store/" + H.replace('v', 'e') + "-x"));
    assertFalse(StorePath.isValid("/nix/store/" + H.substring(1) + "-x"));
    assertFalse(StorePath.isValid("/usr/store/" + H + "-x"));
    assertThrows(IllegalArgumentException.class, () -> StorePath.parseBaseName(H + "_x"));
  }

  /** Our name rules agree with the real nix-store --add (which names a path after the file). */
  @Test
  void nameRulesAgreeWithNix(@TempDir Path tmp) throws Exception {
    Tiers.requireNix();
    for (String name :
        List.of(
            "ok-name_1.2",
            "a?b=c+d",
            ".hidden",
            "with space",
            "caf\u00e9",
            "a@b",
            "a:b",
            "x".repeat(211),
            "y".repeat(212))) {
      Path f = Files.writeString(tmp.resolve(name), name);
      Process p =
          new ProcessBuilder("nix-store", "--add", f.toString()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      boolean nixAccepts = p.waitFor() == 0;
      assertEquals(
          nixAccepts, StorePath.isValid("/nix/store/" + H + "-" + name), name + ": " + out);
      if (nixAccepts) {
        assertEquals(name, StorePath.parse(out).name());
      }
    }
  }
}
