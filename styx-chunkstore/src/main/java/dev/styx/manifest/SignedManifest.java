package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSecretKey;
import dev.styx.sig.NixSignature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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
public record SignedManifest(byte[] manifestBytes, List<NixSignature> signatures)
    implements ManifestEnvelope {
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
  }

  @Override
  public byte[] manifestBytes() {
    return manifestBytes.clone();
  }

  /** Length of the manifest encoding. */
  public int size() {
    return manifestBytes.length;
  }

  /** Already inline: itself. */
  @Override
  public SignedManifest join(ChunkProvider chunks) {
    return this;
  }

  /** Encodes {@code manifest} and signs the encoding with each key. */
  public static SignedManifest sign(Manifest manifest, List<NixSecretKey> keys) {
    byte[] bytes = ManifestCodec.encode(manifest);
    List<NixSignature> sigs = new ArrayList<>();
    for (NixSecretKey k : keys) {
      sigs.add(k.sign(bytes));
    }
    return new SignedManifest(bytes, sigs);
  }

  /** {@link #sign(Manifest, List)} with one key. */
  public static SignedManifest sign(Manifest manifest, NixSecretKey key) {
    return sign(manifest, List.of(key));
  }

  /**
   * Checks the signatures against the trusted keys and decodes the manifest. Valid if at least one
   * signature verifies under the trusted key of its name, as Nix checks narinfo signatures.
   */
  public Manifest verify(NixKeyring trusted) throws ManifestFormatException {
    if (trusted.isEmpty()) {
      throw new ManifestFormatException("no trusted manifest keys configured");
    }
    if (!trusted.verifiesAny(manifestBytes, signatures)) {
      List<String> names = new ArrayList<>();
      for (NixSignature s : signatures) {
        names.add(s.keyName());
      }
      List<String> keys = new ArrayList<>();
      for (NixPublicKey k : trusted.keys()) {
        keys.add(k.name());
      }
      throw new ManifestFormatException(
          "manifest signature not valid for any trusted key (signed by "
              + String.join(", ", names)
              + "; trusted: "
              + String.join(", ", keys)
              + ")");
    }
    return ManifestCodec.decode(manifestBytes);
  }

  /** Encodes the envelope. */
  @Override
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
      writeSignatures(g, signatures);
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
      List<NixSignature> sigs = readSignatures(r);
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

  /** The {@code "signatures"} field of both envelope versions: an array of "keyname:base64". */
  static void writeSignatures(CBORGenerator g, List<NixSignature> signatures) throws IOException {
    g.writeFieldName("signatures");
    g.writeStartArray(null, signatures.size());
    for (NixSignature s : signatures) {
      g.writeString(s.toString());
    }
    g.writeEndArray();
  }

  /** Reads the {@code "signatures"} field written by {@link #writeSignatures}. */
  static List<NixSignature> readSignatures(CborReader r) throws IOException {
    r.field("signatures");
    r.expect(JsonToken.START_ARRAY);
    List<NixSignature> sigs = new ArrayList<>();
    while (r.next() != JsonToken.END_ARRAY) {
      if (sigs.size() >= MAX_SIGNATURES) {
        throw new ManifestFormatException("more than " + MAX_SIGNATURES + " signatures");
      }
      sigs.add(NixSignature.parse(r.currentString()));
    }
    return sigs;
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
