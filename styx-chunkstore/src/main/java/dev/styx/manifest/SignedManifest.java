package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * A manifest as signed and shipped: the exact encoded manifest bytes plus Ed25519 signatures over
 * those bytes in Nix's {@code keyname:base64(signature)} form (ARCHITECTURE.md "Trust"). Encoding,
 * a CBOR map with keys in this order:
 *
 * <pre>
 * "styx":       "signed-manifest"
 * "v":          1
 * "manifest":   bytes            the {@link ManifestCodec} encoding, signed as is
 * "signatures": [text...]        "keyname:base64", at least one
 * </pre>
 *
 * The signed message is the manifest encoding itself; it starts with the CBOR tag field {@code
 * "styx": "manifest"}, so it can never be mistaken for a narinfo fingerprint ({@code "1;..."}).
 */
public record SignedManifest(byte[] manifestBytes, List<String> signatures) {
  /** Envelope format version. */
  public static final int VERSION = 1;

  /** Most signatures kept in one envelope. */
  public static final int MAX_SIGNATURES = 16;

  public SignedManifest {
    manifestBytes = manifestBytes.clone();
    signatures = List.copyOf(signatures);
    if (signatures.isEmpty() || signatures.size() > MAX_SIGNATURES) {
      throw new IllegalArgumentException(
          "a signed manifest needs 1.." + MAX_SIGNATURES + " signatures");
    }
    for (String s : signatures) {
      splitSignature(s);
    }
  }

  @Override
  public byte[] manifestBytes() {
    return manifestBytes.clone();
  }

  /** Signs {@code manifest}'s encoding with an Ed25519 key named {@code keyName}. */
  public static SignedManifest sign(Manifest manifest, String keyName, PrivateKey key) {
    byte[] bytes = ManifestCodec.encode(manifest);
    return new SignedManifest(bytes, List.of(signature(bytes, keyName, key)));
  }

  /** The Nix-style signature {@code keyName:base64(Ed25519(bytes))}. */
  public static String signature(byte[] bytes, String keyName, PrivateKey key) {
    checkKeyName(keyName);
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(bytes);
      return keyName + ":" + Base64.getEncoder().encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot sign with key " + keyName + ": " + e.getMessage(), e);
    }
  }

  /**
   * Checks the signatures against trusted keys (name -> Ed25519 public key) and decodes the
   * manifest. Valid if at least one signature by a trusted key name verifies, as Nix does.
   */
  public Manifest verify(Map<String, PublicKey> trusted) throws ManifestFormatException {
    if (trusted.isEmpty()) {
      throw new ManifestFormatException("no trusted manifest keys configured");
    }
    List<String> names = new ArrayList<>();
    for (String sig : signatures) {
      String[] parts = splitSignature(sig);
      names.add(parts[0]);
      PublicKey k = trusted.get(parts[0]);
      if (k != null && verifyOne(k, parts[1])) {
        return ManifestCodec.decode(manifestBytes);
      }
    }
    throw new ManifestFormatException(
        "manifest signature not valid for any trusted key (signed by "
            + String.join(", ", names)
            + "; trusted: "
            + String.join(", ", trusted.keySet())
            + ")");
  }

  private boolean verifyOne(PublicKey k, String b64) {
    try {
      byte[] sig = Base64.getDecoder().decode(b64);
      if (sig.length != 64) {
        return false;
      }
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(k);
      s.update(manifestBytes);
      return s.verify(sig);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** Splits {@code name:base64}; throws IllegalArgumentException if malformed. */
  static String[] splitSignature(String sig) {
    int i = sig.indexOf(':');
    if (i <= 0 || i == sig.length() - 1) {
      throw new IllegalArgumentException(
          "signature must be keyname:base64, got " + ManifestPaths.quote(sig));
    }
    checkKeyName(sig.substring(0, i));
    return new String[] {sig.substring(0, i), sig.substring(i + 1)};
  }

  private static void checkKeyName(String name) {
    if (name.isEmpty() || name.length() > 128 || !name.matches("[A-Za-z0-9._+-]+")) {
      throw new IllegalArgumentException("bad key name " + ManifestPaths.quote(name));
    }
  }

  /** Encodes the envelope. */
  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(manifestBytes.length + 256);
    try (CBORGenerator g = (CBORGenerator) ManifestCodec.CBOR.createGenerator(out)) {
      g.writeStartObject(4);
      g.writeFieldName("styx");
      g.writeString("signed-manifest");
      g.writeFieldName("v");
      g.writeNumber(VERSION);
      g.writeFieldName("manifest");
      g.writeBinary(manifestBytes, 0, manifestBytes.length);
      g.writeFieldName("signatures");
      g.writeStartArray(null, signatures.size());
      for (String s : signatures) {
        g.writeString(s);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Decodes an envelope (signatures are NOT checked here: call {@link #verify}). */
  public static SignedManifest decode(byte[] bytes) throws ManifestFormatException {
    if (bytes.length > ManifestCodec.MAX_BYTES + 64 * 1024) {
      throw new ManifestFormatException("signed manifest is too large: " + bytes.length + " bytes");
    }
    SignedManifest sm;
    try (JsonParser p = ManifestCodec.CBOR.createParser(bytes)) {
      CborReader r = new CborReader(p, "signed manifest");
      r.expect(JsonToken.START_OBJECT);
      r.expectString("styx", "signed-manifest");
      long v = r.longField("v");
      if (v != VERSION) {
        throw new ManifestFormatException("unsupported signed manifest version " + v);
      }
      r.field("manifest");
      byte[] m = r.nextBinary();
      r.field("signatures");
      r.expect(JsonToken.START_ARRAY);
      List<String> sigs = new ArrayList<>();
      while (r.next() != JsonToken.END_ARRAY) {
        if (sigs.size() >= MAX_SIGNATURES) {
          throw new ManifestFormatException("more than " + MAX_SIGNATURES + " signatures");
        }
        sigs.add(r.currentString());
      }
      r.expect(JsonToken.END_OBJECT);
      if (p.nextToken() != null) {
        throw new ManifestFormatException("trailing data after the signed manifest");
      }
      sm = new SignedManifest(m, sigs);
    } catch (ManifestFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ManifestFormatException("invalid signed manifest: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ManifestFormatException("signed manifest is not valid CBOR: " + e.getMessage(), e);
    }
    if (!Arrays.equals(sm.encode(), bytes)) {
      throw new ManifestFormatException("signed manifest is not in canonical CBOR encoding");
    }
    return sm;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedManifest s
        && Arrays.equals(s.manifestBytes, manifestBytes)
        && s.signatures.equals(signatures);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(manifestBytes) * 31 + signatures.hashCode();
  }
}
