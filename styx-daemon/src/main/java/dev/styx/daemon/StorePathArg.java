package dev.styx.daemon;

import dev.styx.nix.StorePath;

/** Store path arguments as users and Nix give them: {@code /nix/store/<hash>-<name>} or bare. */
public final class StorePathArg {
  private StorePathArg() {}

  /** Parses {@code /nix/store/<hash>-<name>} or {@code <hash>-<name>}; hostile names throw. */
  public static StorePath parse(String s) {
    if (s == null || s.isEmpty()) {
      throw new IllegalArgumentException("store path is required");
    }
    String base =
        s.startsWith(StorePath.STORE_DIR + "/") ? s.substring(StorePath.STORE_DIR.length() + 1) : s;
    if (base.contains("/")) {
      throw new IllegalArgumentException("not a store path: " + s);
    }
    try {
      return StorePath.parseBaseName(base);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "not a valid store path: " + s + " (" + e.getMessage() + ")");
    }
  }

  /** The 32-character hash part of {@code <hash>}, {@code <hash>-<name>} or a full path. */
  public static String hashPart(String s) {
    String base =
        s.startsWith(StorePath.STORE_DIR + "/") ? s.substring(StorePath.STORE_DIR.length() + 1) : s;
    String h =
        base.length() >= StorePath.HASH_CHARS ? base.substring(0, StorePath.HASH_CHARS) : base;
    if (!h.matches("[0-9abcdfghijklmnpqrsvwxyz]{32}")
        || (base.length() > 32 && base.charAt(32) != '-')) {
      throw new IllegalArgumentException("not a store path or hash: " + s);
    }
    return h;
  }
}
