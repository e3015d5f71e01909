package dev.styx.sig;

import java.util.Arrays;
import java.util.Base64;

/** A detached Ed25519 signature as Nix writes it: {@code keyname:base64(64 bytes)}. */
public record NixSignature(String keyName, byte[] signature) {
  /** Validates the parts and copies the bytes. */
  public NixSignature {
    NixPublicKey.checkName(keyName);
    if (signature.length != 64) {
      throw new IllegalArgumentException(
          "signature by '" + keyName + "' is " + signature.length + " bytes, not 64");
    }
    signature = signature.clone();
  }

  /** Parses {@code name:base64}. */
  public static NixSignature parse(String s) {
    int colon = s.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("signature '" + s + "' is not 'keyname:base64'");
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(s.substring(colon + 1).trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("signature '" + s + "' has invalid base64", e);
    }
    return new NixSignature(s.substring(0, colon), raw);
  }

  /** A copy of the 64 signature bytes. */
  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NixSignature s
        && s.keyName.equals(keyName)
        && Arrays.equals(s.signature, signature);
  }

  @Override
  public int hashCode() {
    return keyName.hashCode() * 31 + Arrays.hashCode(signature);
  }

  /** {@code name:base64}. */
  @Override
  public String toString() {
    return keyName + ":" + Base64.getEncoder().encodeToString(signature);
  }
}
