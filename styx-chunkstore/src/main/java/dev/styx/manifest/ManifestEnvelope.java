package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.styx.sig.NixSignature;
import java.io.IOException;
import java.util.List;

/**
 * A signed manifest as stored and shipped: the manifest encoding inline ({@link SignedManifest},
 * envelope version 1) or, for a large manifest, the digests of its chunks ({@link ChunkedManifest},
 * version 2). Either way the signatures cover the manifest encoding itself.
 */
public sealed interface ManifestEnvelope permits SignedManifest, ChunkedManifest {

  /** Signatures over the manifest encoding, {@code keyname:base64}. */
  List<NixSignature> signatures();

  /** The canonical CBOR encoding of this envelope. */
  byte[] encode();

  /**
   * This envelope with the manifest encoding in hand: itself if inline, else its chunks fetched
   * from {@code chunks} (may be null for an inline envelope), each checked against its digest.
   * Signatures are not checked here: call {@link SignedManifest#verify}.
   */
  SignedManifest join(ChunkProvider chunks) throws IOException;

  /** Decodes an envelope of either version (signatures are not checked here). */
  static ManifestEnvelope decode(byte[] bytes) throws ManifestFormatException {
    long v;
    try (JsonParser p = ManifestCodec.CBOR.createParser(bytes)) {
      CborReader r = new CborReader(p, "signed manifest");
      r.expect(JsonToken.START_OBJECT);
      r.expectString("styx", "signed-manifest");
      v = r.longField("v");
    } catch (ManifestFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new ManifestFormatException("signed manifest is not valid CBOR: " + e.getMessage(), e);
    }
    if (v == SignedManifest.VERSION) {
      return SignedManifest.decode(bytes);
    }
    if (v == ChunkedManifest.VERSION) {
      return ChunkedManifest.decode(bytes);
    }
    throw new ManifestFormatException("unsupported signed manifest version " + v);
  }
}
