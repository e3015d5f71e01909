package dev.styx.sig;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A Nix Ed25519 secret key, {@code name:base64(seed(32) || public key(32))} as written by {@code
 * nix-store --generate-binary-cache-key}; signs with the JDK's Ed25519 (the seed wrapped in its
 * PKCS#8 prefix), which reproduces libsodium's signatures byte for byte.
 */
public final class NixSecretKey {
  private static final byte[] PKCS8_PREFIX =
      HexFormat.of().parseHex("302e020100300506032b657004220420");

  private final String name;
  private final byte[] key;
  private final PrivateKey jdkKey;

  private NixSecretKey(String name, byte[] key) {
    NixPublicKey.checkName(name);
    if (key.length != 64) {
      throw new IllegalArgumentException(
          "secret key '" + name + "' is " + key.length + " bytes, not 64");
    }
    this.name = name;
    this.key = key.clone();
    byte[] der = Arrays.copyOf(PKCS8_PREFIX, PKCS8_PREFIX.length + 32);
    System.arraycopy(key, 0, der, PKCS8_PREFIX.length, 32);
    try {
      this.jdkKey = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("secret key '" + name + "' is unusable: " + e, e);
    }
    if (!publicKey().verify(new byte[] {1}, sign(new byte[] {1}))) {
      throw new IllegalArgumentException(
          "secret key '" + name + "': its public half does not match its seed");
    }
  }

  /** Parses {@code name:base64(64 bytes)}. */
  public static NixSecretKey parse(String s) {
    String t = s.trim();
    int colon = t.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("secret key is not 'name:base64'");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(t.substring(colon + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "secret key '" + t.substring(0, colon) + "' has bad base64");
    }
    return new NixSecretKey(t.substring(0, colon), raw);
  }

  /** Reads a Nix secret key file. */
  public static NixSecretKey read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  /** A fresh random key pair named {@code name}. */
  public static NixSecretKey generate(String name) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
      var kp = g.generateKeyPair();
      byte[] pkcs8 = kp.getPrivate().getEncoded();
      byte[] x509 = kp.getPublic().getEncoded();
      byte[] raw = new byte[64];
      System.arraycopy(pkcs8, pkcs8.length - 32, raw, 0, 32);
      System.arraycopy(x509, x509.length - 32, raw, 32, 32);
      return new NixSecretKey(name, raw);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 unavailable in this JDK", e);
    }
  }

  /** The key name. */
  public String name() {
    return name;
  }

  /** The public half. */
  public NixPublicKey publicKey() {
    return new NixPublicKey(name, Arrays.copyOfRange(key, 32, 64));
  }

  /** Signs {@code message}. */
  public NixSignature sign(byte[] message) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(jdkKey);
      s.update(message);
      return new NixSignature(name, s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  /** Signs a UTF-8 string such as a narinfo fingerprint. */
  public NixSignature sign(String message) {
    return sign(message.getBytes(StandardCharsets.UTF_8));
  }

  /** The Nix key-file form {@code name:base64(64 bytes)}; handle with care. */
  public String toKeyFileString() {
    return name + ":" + Base64.getEncoder().encodeToString(key);
  }

  /** Never prints key material. */
  @Override
  public String toString() {
    return "NixSecretKey[" + name + "]";
  }
}
