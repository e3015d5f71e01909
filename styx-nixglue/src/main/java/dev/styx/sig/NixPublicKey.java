package dev.styx.sig;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A Nix Ed25519 public key, {@code name:base64(32 bytes)} (src/libutil/signature/local-keys.cc),
 * verified with the JDK's Ed25519 (the raw key wrapped in its X.509 SubjectPublicKeyInfo prefix).
 */
public record NixPublicKey(String name, byte[] key) {
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  /** Validates the parts and copies the bytes. */
  public NixPublicKey {
    checkName(name);
    if (key.length != 32) {
      throw new IllegalArgumentException(
          "public key '" + name + "' is " + key.length + " bytes, not 32");
    }
    key = key.clone();
  }

  static void checkName(String name) {
    if (name == null || name.isEmpty() || name.indexOf(':') >= 0) {
      throw new IllegalArgumentException("invalid key name '" + name + "'");
    }
  }

  /** Parses {@code name:base64}, e.g. the contents of a Nix public key file. */
  public static NixPublicKey parse(String s) {
    String t = s.trim();
    int colon = t.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("public key '" + t + "' is not 'name:base64'");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(t.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("public key '" + t + "' has invalid base64", e);
    }
    return new NixPublicKey(t.substring(0, colon), raw);
  }

  /** A copy of the 32 key bytes. */
  @Override
  public byte[] key() {
    return key.clone();
  }

  PublicKey jdkKey() throws GeneralSecurityException {
    byte[] der = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + 32);
    System.arraycopy(key, 0, der, X509_PREFIX.length, 32);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
  }

  /** True if {@code sig} is by this key (same name) and valid over {@code message}. */
  public boolean verify(byte[] message, NixSignature sig) {
    if (!sig.keyName().equals(name)) {
      return false;
    }
    try {
      Signature v = Signature.getInstance("Ed25519");
      v.initVerify(jdkKey());
      v.update(message);
      return v.verify(sig.signature());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** Verifies a signature over a UTF-8 string such as a narinfo fingerprint. */
  public boolean verify(String message, NixSignature sig) {
    return verify(message.getBytes(StandardCharsets.UTF_8), sig);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NixPublicKey k && k.name.equals(name) && Arrays.equals(k.key, key);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(key);
  }

  /** {@code name:base64}. */
  @Override
  public String toString() {
    return name + ":" + Base64.getEncoder().encodeToString(key);
  }
}
