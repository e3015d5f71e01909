package dev.styx.nix;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A hash as Nix writes it: {@code <algo>:<nix32>} in narinfo; parsing also accepts base16, base64
 * and SRI ({@code sha256-<base64>}) forms (src/libutil/hash.cc parseAnyPrefixed).
 */
public record NixHash(Algorithm algorithm, byte[] bytes) {

  /** Hash algorithms Nix knows, with their digest sizes. */
  public enum Algorithm {
    MD5("md5", "MD5", 16),
    SHA1("sha1", "SHA-1", 20),
    SHA256("sha256", "SHA-256", 32),
    SHA512("sha512", "SHA-512", 64);

    private final String nixName;
    private final String jdkName;
    private final int size;

    Algorithm(String nixName, String jdkName, int size) {
      this.nixName = nixName;
      this.jdkName = jdkName;
      this.size = size;
    }

    /** The name Nix prints, e.g. {@code sha256}. */
    public String nixName() {
      return nixName;
    }

    /** Digest size in bytes. */
    public int size() {
      return size;
    }

    /** A fresh JDK digest for this algorithm. */
    public MessageDigest newDigest() {
      try {
        return MessageDigest.getInstance(jdkName);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(jdkName + " missing from the JDK", e);
      }
    }

    /** Looks up a Nix algorithm name. */
    public static Algorithm ofNixName(String name) {
      for (Algorithm a : values()) {
        if (a.nixName.equals(name)) {
          return a;
        }
      }
      throw new IllegalArgumentException("unknown hash algorithm '" + name + "'");
    }
  }

  /** Checks the digest size and copies the bytes. */
  public NixHash {
    if (bytes.length != algorithm.size()) {
      throw new IllegalArgumentException(
          algorithm.nixName()
              + " hash must be "
              + algorithm.size()
              + " bytes, not "
              + bytes.length);
    }
    bytes = bytes.clone();
  }

  /** A SHA-256 hash from its 32 bytes. */
  public static NixHash sha256(byte[] digest) {
    return new NixHash(Algorithm.SHA256, digest);
  }

  /**
   * Parses {@code algo:<nix32|base16|base64>} or SRI {@code algo-<base64>}; the encoding is told
   * apart by length, as Nix does.
   */
  public static NixHash parse(String s) {
    if (s == null) {
      throw new IllegalArgumentException("hash is null");
    }
    int colon = s.indexOf(':');
    int dash = s.indexOf('-');
    if (colon > 0 && (dash < 0 || colon < dash)) {
      Algorithm algo = Algorithm.ofNixName(s.substring(0, colon));
      return parseBody(algo, s.substring(colon + 1), s);
    }
    if (dash > 0) {
      Algorithm algo = Algorithm.ofNixName(s.substring(0, dash));
      return new NixHash(algo, decodeBase64(algo, s.substring(dash + 1), s));
    }
    throw new IllegalArgumentException("hash '" + s + "' has no 'algo:' or SRI 'algo-' prefix");
  }

  /** Parses a hash body without prefix for a known algorithm. */
  public static NixHash parse(Algorithm algo, String body) {
    return parseBody(algo, body, body);
  }

  private static NixHash parseBody(Algorithm algo, String body, String whole) {
    int n = algo.size();
    try {
      if (body.length() == n * 2) {
        return new NixHash(algo, HexFormat.of().parseHex(body.toLowerCase(Locale.ROOT)));
      }
      if (body.length() == Nix32.encodedLength(n)) {
        return new NixHash(algo, Nix32.decode(body, n));
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid hash '" + whole + "': " + e.getMessage(), e);
    }
    if (body.length() == (n + 2) / 3 * 4) {
      return new NixHash(algo, decodeBase64(algo, body, whole));
    }
    throw new IllegalArgumentException(
        "hash '" + whole + "' has the wrong length for " + algo.nixName());
  }

  private static byte[] decodeBase64(Algorithm algo, String b64, String whole) {
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(b64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid base64 in hash '" + whole + "'", e);
    }
    if (raw.length != algo.size()) {
      throw new IllegalArgumentException(
          "hash '" + whole + "' decodes to " + raw.length + " bytes, not " + algo.size());
    }
    return raw;
  }

  /** A copy of the digest bytes. */
  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  /** {@code algo:<nix32>}, the narinfo form. */
  public String toNix32String() {
    return algorithm.nixName() + ":" + Nix32.encode(bytes);
  }

  /** The digest in nix32 without prefix. */
  public String nix32() {
    return Nix32.encode(bytes);
  }

  /** {@code algo:<hex>}. */
  public String toBase16String() {
    return algorithm.nixName() + ":" + HexFormat.of().formatHex(bytes);
  }

  /** SRI form {@code algo-<base64>}. */
  public String toSri() {
    return algorithm.nixName() + "-" + Base64.getEncoder().encodeToString(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NixHash h && h.algorithm == algorithm && Arrays.equals(h.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return algorithm.hashCode() * 31 + Arrays.hashCode(bytes);
  }

  /** The narinfo form, {@code algo:<nix32>}. */
  @Override
  public String toString() {
    return toNix32String();
  }
}
