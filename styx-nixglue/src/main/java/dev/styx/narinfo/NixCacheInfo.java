package dev.styx.narinfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code nix-cache-info} file at a binary cache's root (Nix manual, binary-cache
 * nix-cache-info): {@code StoreDir}, {@code WantMassQuery}, {@code Priority}; other keys kept.
 *
 * @param priority -1 when absent
 */
public record NixCacheInfo(
    String storeDir, boolean wantMassQuery, int priority, List<Map.Entry<String, String>> extra) {

  /** Copies the extra keys. */
  public NixCacheInfo {
    extra = List.copyOf(extra);
  }

  /** Parses the file; unknown keys are kept and malformed lines rejected. */
  public static NixCacheInfo parse(String text) {
    String storeDir = null;
    boolean mass = false;
    int priority = -1;
    List<Map.Entry<String, String>> extra = new ArrayList<>();
    int lineNo = 0;
    for (String line : text.split("\n", -1)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      int colon = line.indexOf(':');
      if (colon <= 0) {
        throw new NarInfoFormatException("nix-cache-info line " + lineNo + " is not 'Key: value'");
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      try {
        switch (key) {
          case "StoreDir" -> storeDir = value;
          case "WantMassQuery" -> mass = value.equals("1");
          case "Priority" -> priority = Integer.parseInt(value);
          default -> extra.add(Map.entry(key, value));
        }
      } catch (NumberFormatException e) {
        throw new NarInfoFormatException(
            "nix-cache-info line " + lineNo + ": Priority '" + value + "' is not a number");
      }
    }
    if (storeDir == null) {
      throw new NarInfoFormatException("nix-cache-info has no StoreDir");
    }
    return new NixCacheInfo(storeDir, mass, priority, extra);
  }

  /** The file's text. */
  public String serialize() {
    StringBuilder b = new StringBuilder("StoreDir: ").append(storeDir).append('\n');
    if (wantMassQuery) {
      b.append("WantMassQuery: 1\n");
    }
    if (priority >= 0) {
      b.append("Priority: ").append(priority).append('\n');
    }
    for (Map.Entry<String, String> e : extra) {
      b.append(e.getKey()).append(": ").append(e.getValue()).append('\n');
    }
    return b.toString();
  }
}
