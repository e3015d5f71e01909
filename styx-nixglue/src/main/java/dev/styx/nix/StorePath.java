package dev.styx.nix;

/**
 * A Nix store path {@code /nix/store/<hashPart>-<name>}: a 32-character nix32 hash part (160 bits)
 * and a name of at most 211 characters from {@code [A-Za-z0-9+\-._?=]} (src/libstore/path.cc
 * checkName). Like current Nix, the names {@code .} and {@code ..} and names starting with {@code
 * .-} or {@code ..-} are rejected; other names starting with a dot (".hidden") are valid.
 */
public record StorePath(String hashPart, String name) implements Comparable<StorePath> {
  /** The only store directory Styx supports. */
  public static final String STORE_DIR = "/nix/store";

  /** Characters of the hash part. */
  public static final int HASH_CHARS = 32;

  /** Longest name Nix accepts (255 minus the hash part and the dash, with room for ".drv"). */
  public static final int MAX_NAME_LENGTH = 211;

  /** Validates both parts. */
  public StorePath {
    checkHashPart(hashPart);
    checkName(name);
  }

  /** Parses a full path {@code /nix/store/<hash>-<name>}; a trailing sub-path is an error. */
  public static StorePath parse(String path) {
    String prefix = STORE_DIR + "/";
    if (path == null || !path.startsWith(prefix)) {
      throw new IllegalArgumentException(
          "store path '" + path + "' is not in the Nix store " + STORE_DIR);
    }
    return parseBaseName(path.substring(prefix.length()));
  }

  /** Parses a base name {@code <hash>-<name>} as in narinfo References and Deriver. */
  public static StorePath parseBaseName(String baseName) {
    if (baseName == null
        || baseName.length() < HASH_CHARS + 2
        || baseName.charAt(HASH_CHARS) != '-') {
      throw new IllegalArgumentException(
          "store path base name '" + baseName + "' is not '<32 nix32 chars>-<name>'");
    }
    return new StorePath(baseName.substring(0, HASH_CHARS), baseName.substring(HASH_CHARS + 1));
  }

  /** True if {@code path} parses as a full store path. */
  public static boolean isValid(String path) {
    try {
      parse(path);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static void checkHashPart(String hashPart) {
    if (hashPart == null || hashPart.length() != HASH_CHARS) {
      throw new IllegalArgumentException(
          "store path hash part '" + hashPart + "' is not " + HASH_CHARS + " characters");
    }
    for (int i = 0; i < HASH_CHARS; i++) {
      if (!Nix32.isDigit(hashPart.charAt(i))) {
        throw new IllegalArgumentException(
            "store path hash part '"
                + hashPart
                + "' has a non-nix32 character '"
                + hashPart.charAt(i)
                + "'");
      }
    }
  }

  private static void checkName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("store path name is empty");
    }
    if (name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "store path name is " + name.length() + " characters, more than " + MAX_NAME_LENGTH);
    }
    if (name.equals(".") || name.equals("..") || name.startsWith(".-") || name.startsWith("..-")) {
      throw new IllegalArgumentException("store path name '" + name + "' is not allowed");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || "+-._?=".indexOf(c) >= 0;
      if (!ok) {
        throw new IllegalArgumentException(
            "store path name '" + name + "' has an invalid character at index " + i);
      }
    }
  }

  /** {@code <hash>-<name>}, the form used in narinfo References. */
  public String baseName() {
    return hashPart + "-" + name;
  }

  /** The 20 hash bytes the hash part encodes. */
  public byte[] hashBytes() {
    return Nix32.decode(hashPart, 20);
  }

  /** The full path {@code /nix/store/<hash>-<name>}. */
  @Override
  public String toString() {
    return STORE_DIR + "/" + baseName();
  }

  @Override
  public int compareTo(StorePath o) {
    return baseName().compareTo(o.baseName());
  }
}
