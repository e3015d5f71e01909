package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import dev.styx.chunk.ChunkDigest;
import dev.styx.sig.NixSignature;
import dev.styx.slab.ChunkRef;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A large manifest stored as chunks behind a small envelope (ARCHITECTURE.md "Formats": "large
 * manifests can themselves be stored as chunks"), so it is fetched, stored and diffed like file
 * data. Its encoding is cut into 64 KiB chunks, each stored in the chunk store under its SHA-256
 * like any other chunk. Envelope, a CBOR map with keys in this order:
 *
 * <pre>
 * "styx":       "signed-manifest"
 * "v":          2
 * "size":       uint           bytes of the manifest encoding, 1..{@link ManifestCodec#MAX_BYTES}
 * "chunkShift": 16             chunk size 2^16; the last chunk is the remainder
 * "digests":    bytes          SHA-256 of each chunk, concatenated: ceil(size / 2^16) x 32 bytes
 * "signatures": [text...]      "keyname:base64" over the joined manifest encoding, at least one
 * </pre>
 *
 * The signatures are the version-1 signatures: over the manifest encoding, not over this envelope.
 * So the trust model is unchanged and the digests need no signature of their own: chunks are
 * checked against the digests as they arrive, and a wrong digest list can only make the joined
 * bytes fail {@link SignedManifest#verify}, never pass it.
 */
public record ChunkedManifest(long size, List<ChunkDigest> digests, List<NixSignature> signatures)
    implements ManifestEnvelope {
  /** Envelope format version. */
  public static final int VERSION = 2;

  /** Chunk size of a manifest encoding, as a shift (64 KiB). */
  public static final int CHUNK_SHIFT = 16;

  /** Manifests whose encoding is larger than this are stored as chunks (one chunk's worth). */
  public static final int CHUNK_ABOVE = 1 << CHUNK_SHIFT;

  public ChunkedManifest {
    digests = List.copyOf(digests);
    signatures = List.copyOf(signatures);
    if (size <= 0 || size > ManifestCodec.MAX_BYTES) {
      throw new IllegalArgumentException(
          "chunked manifest size must be 1.." + ManifestCodec.MAX_BYTES + ", got " + size);
    }
    if (digests.size() != chunkCount(size)) {
      throw new IllegalArgumentException(
          "a manifest of "
              + size
              + " bytes has "
              + chunkCount(size)
              + " chunks, not "
              + digests.size());
    }
    if (signatures.isEmpty() || signatures.size() > SignedManifest.MAX_SIGNATURES) {
      throw new IllegalArgumentException(
          "a signed manifest needs 1.." + SignedManifest.MAX_SIGNATURES + " signatures");
    }
  }

  /** Whether {@code sm} is large enough to be stored as chunks. */
  public static boolean wanted(SignedManifest sm) {
    return sm.size() > CHUNK_ABOVE;
  }

  /** The chunked form of {@code sm}: the digests of its encoding's chunks, the same signatures. */
  public static ChunkedManifest of(SignedManifest sm) {
    byte[] b = sm.manifestBytes();
    List<ChunkDigest> ds = new ArrayList<>();
    for (int i = 0; i < chunkCount(b.length); i++) {
      ds.add(ChunkDigest.of(b, i << CHUNK_SHIFT, chunkLength(b.length, i)));
    }
    return new ChunkedManifest(b.length, ds, sm.signatures());
  }

  static int chunkCount(long size) {
    return (int) ((size + CHUNK_ABOVE - 1) >>> CHUNK_SHIFT);
  }

  /** Length of chunk {@code i} of an encoding of {@code size} bytes. */
  static int chunkLength(long size, int i) {
    return (int) Math.min(CHUNK_ABOVE, size - ((long) i << CHUNK_SHIFT));
  }

  /** The chunks to fetch, in order (a digest may repeat). */
  public List<ChunkRef> chunks() {
    List<ChunkRef> refs = new ArrayList<>(digests.size());
    for (int i = 0; i < digests.size(); i++) {
      refs.add(new ChunkRef(digests.get(i), chunkLength(size, i)));
    }
    return refs;
  }

  @Override
  public SignedManifest join(ChunkProvider chunks) throws IOException {
    if (chunks == null) {
      throw new ManifestFormatException(
          "manifest is stored as "
              + digests.size()
              + " chunks ("
              + size
              + " bytes) and no chunk source was given to fetch them");
    }
    byte[] out = new byte[(int) size];
    for (int i = 0; i < digests.size(); i++) {
      ChunkDigest d = digests.get(i);
      int len = chunkLength(size, i);
      byte[] c = chunks.chunk(d, len);
      if (c.length != len || !ChunkDigest.of(c).equals(d)) {
        throw new ManifestFormatException(
            "manifest chunk " + i + " (" + d.hex() + ") does not match its digest and length");
      }
      System.arraycopy(c, 0, out, i << CHUNK_SHIFT, len);
    }
    return new SignedManifest(out, signatures);
  }

  @Override
  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(digests.size() * 32 + 256);
    try (CBORGenerator g = (CBORGenerator) ManifestCodec.CBOR.createGenerator(out)) {
      g.writeStartObject(6);
      g.writeFieldName("styx");
      g.writeString("signed-manifest");
      g.writeFieldName("v");
      g.writeNumber(VERSION);
      g.writeFieldName("size");
      g.writeNumber(size);
      g.writeFieldName("chunkShift");
      g.writeNumber(CHUNK_SHIFT);
      byte[] ds = new byte[digests.size() * ChunkDigest.LENGTH];
      for (int i = 0; i < digests.size(); i++) {
        System.arraycopy(digests.get(i).bytes(), 0, ds, i * ChunkDigest.LENGTH, ChunkDigest.LENGTH);
      }
      g.writeFieldName("digests");
      g.writeBinary(ds, 0, ds.length);
      SignedManifest.writeSignatures(g, signatures);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Decodes a version-2 envelope (signatures are NOT checked here). */
  public static ChunkedManifest decode(byte[] bytes) throws ManifestFormatException {
    // 64 MiB of manifest is 1,024 chunks: an envelope is never more than a few tens of KiB.
    if (bytes.length > 256 * 1024) {
      throw new ManifestFormatException(
          "chunked manifest envelope is too large: " + bytes.length + " bytes");
    }
    ChunkedManifest cm;
    try (JsonParser p = ManifestCodec.CBOR.createParser(bytes)) {
      CborReader r = new CborReader(p, "chunked manifest envelope");
      r.expect(JsonToken.START_OBJECT);
      r.expectString("styx", "signed-manifest");
      long v = r.longField("v");
      if (v != VERSION) {
        throw new ManifestFormatException("not a chunked manifest envelope (version " + v + ")");
      }
      long size = r.longField("size");
      long shift = r.longField("chunkShift");
      if (shift != CHUNK_SHIFT) {
        throw new ManifestFormatException(
            "unsupported manifest chunk shift " + shift + " (want " + CHUNK_SHIFT + ")");
      }
      r.field("digests");
      byte[] ds = r.nextBinary();
      if (ds.length % ChunkDigest.LENGTH != 0) {
        throw new ManifestFormatException(
            "manifest chunk digests: " + ds.length + " bytes is not a whole number of digests");
      }
      List<ChunkDigest> digests = new ArrayList<>(ds.length / ChunkDigest.LENGTH);
      for (int o = 0; o < ds.length; o += ChunkDigest.LENGTH) {
        digests.add(new ChunkDigest(Arrays.copyOfRange(ds, o, o + ChunkDigest.LENGTH)));
      }
      List<NixSignature> sigs = SignedManifest.readSignatures(r);
      r.expect(JsonToken.END_OBJECT);
      if (p.nextToken() != null) {
        throw new ManifestFormatException("trailing data after the chunked manifest envelope");
      }
      cm = new ChunkedManifest(size, digests, sigs);
    } catch (ManifestFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ManifestFormatException("invalid chunked manifest envelope: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ManifestFormatException(
          "chunked manifest envelope is not valid CBOR: " + e.getMessage(), e);
    }
    if (!Arrays.equals(cm.encode(), bytes)) {
      throw new ManifestFormatException(
          "chunked manifest envelope is not in canonical CBOR encoding");
    }
    return cm;
  }
}
