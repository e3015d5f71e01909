package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import dev.styx.chunk.ChunkDigest;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.slab.ChunkRef;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChunkedManifestTest {
  /** A manifest of {@code files} small chunked files: ~100 bytes of encoding per file. */
  static Manifest large(int files) throws Exception {
    ManifestBuilder b = new ManifestBuilder(ManifestBuilder.hashingSink());
    Random r = new Random(files);
    b.directory("/");
    for (int i = 0; i < files; i++) {
      byte[] data = new byte[300];
      r.nextBytes(data);
      b.regularFile(String.format("/f%06d", i), false, data.length, new ByteArrayInputStream(data));
    }
    return b.build(TestManifests.STORE_PATH, TestManifests.NAR_HASH, 999, List.of());
  }

  /** The chunks of {@code sm}'s encoding by digest, as a chunk store would hold them. */
  static Map<ChunkDigest, byte[]> chunksOf(SignedManifest sm) {
    byte[] b = sm.manifestBytes();
    Map<ChunkDigest, byte[]> m = new HashMap<>();
    for (int off = 0; off < b.length; off += ChunkedManifest.CHUNK_ABOVE) {
      byte[] c = java.util.Arrays.copyOfRange(b, off, Math.min(b.length, off + (1 << 16)));
      m.put(ChunkDigest.of(c), c);
    }
    return m;
  }

  @Test
  void largeManifestRoundTripsThroughChunksAndKeepsItsSignatures() throws Exception {
    NixSecretKey k = NixSecretKey.generate("styx-test-1");
    Manifest m = large(3000);
    SignedManifest sm = SignedManifest.sign(m, k);
    assertTrue(ChunkedManifest.wanted(sm), "3,000 files encode to " + sm.size() + " bytes");
    assertTrue(!ChunkedManifest.wanted(SignedManifest.sign(ManifestCodecTest.sample(), k)));

    ChunkedManifest cm = ChunkedManifest.of(sm);
    assertEquals(sm.size(), cm.size());
    assertEquals((sm.size() + 65535) / 65536, cm.digests().size());
    List<ChunkRef> refs = cm.chunks();
    assertEquals(65536, refs.getFirst().length());
    assertEquals(sm.size() - 65536L * (refs.size() - 1), refs.getLast().length());
    assertEquals(sm.signatures(), cm.signatures(), "the inline signatures, unchanged");

    byte[] obj = ManifestObject.wrap(cm);
    assertTrue(obj.length < 1024, "envelope is small: " + obj.length + " bytes");
    ChunkedManifest back = assertInstanceOf(ChunkedManifest.class, ManifestObject.decode(obj));
    assertEquals(cm, back);
    assertArrayEquals(cm.encode(), back.encode());

    Map<ChunkDigest, byte[]> store = chunksOf(sm);
    List<ChunkDigest> asked = new java.util.ArrayList<>();
    SignedManifest joined =
        ManifestObject.unwrap(
            obj,
            (d, len) -> {
              asked.add(d);
              return store.get(d);
            });
    assertEquals(cm.digests(), asked, "chunks asked for in order");
    assertEquals(sm, joined);
    assertEquals(m, joined.verify(NixKeyring.of(k.publicKey())));

    // The inline object of the same manifest still decodes as version 1.
    assertInstanceOf(SignedManifest.class, ManifestObject.decode(ManifestObject.wrap(sm)));
  }

  @Test
  void refusesWithoutAChunkSourceOrWithBadChunks() throws Exception {
    NixSecretKey k = NixSecretKey.generate("n");
    SignedManifest sm = SignedManifest.sign(large(2000), k);
    ChunkedManifest cm = ChunkedManifest.of(sm);
    byte[] obj = ManifestObject.wrap(cm);
    var none = assertThrows(ManifestFormatException.class, () -> ManifestObject.unwrap(obj));
    assertTrue(none.getMessage().contains("stored as " + cm.digests().size() + " chunks"));

    Map<ChunkDigest, byte[]> store = chunksOf(sm);
    // A chunk store that answers with other bytes (or a shorter chunk) is caught per chunk.
    var wrong =
        assertThrows(
            ManifestFormatException.class,
            () ->
                cm.join(
                    (d, len) -> {
                      byte[] c = store.get(d).clone();
                      c[7] ^= 1;
                      return c;
                    }));
    assertTrue(wrong.getMessage().contains("does not match its digest"), wrong.getMessage());
    assertThrows(
        ManifestFormatException.class,
        () -> cm.join((d, len) -> java.util.Arrays.copyOf(store.get(d), len - 1)));

    // Consistent but forged digests (chunks of another manifest) join, then fail the signature.
    SignedManifest other = SignedManifest.sign(large(2001), NixSecretKey.generate("n"));
    ChunkedManifest forged = ChunkedManifest.of(other);
    ChunkedManifest swapped = new ChunkedManifest(forged.size(), forged.digests(), sm.signatures());
    SignedManifest j = swapped.join((d, len) -> chunksOf(other).get(d));
    assertThrows(ManifestFormatException.class, () -> j.verify(NixKeyring.of(k.publicKey())));
  }

  @Test
  void rejectsMalformedEnvelopes() throws Exception {
    NixSecretKey k = NixSecretKey.generate("n");
    ChunkedManifest cm = ChunkedManifest.of(SignedManifest.sign(large(2000), k));
    byte[] enc = cm.encode();
    assertThrows(
        ManifestFormatException.class,
        () -> ManifestEnvelope.decode(java.util.Arrays.copyOf(enc, enc.length - 1)));
    byte[] ds = new byte[cm.digests().size() * 32];
    String sig = cm.signatures().getFirst().toString();
    // digest count that does not match the size
    assertBad(envelope(2, cm.size(), 16, new byte[ds.length - 32], sig), "chunks, not");
    // digests not a whole number of 32-byte digests
    assertBad(envelope(2, cm.size(), 16, new byte[ds.length + 1], sig), "whole number");
    assertBad(envelope(2, cm.size(), 17, ds, sig), "chunk shift");
    assertBad(envelope(2, 0, 16, new byte[0], sig), "size must be");
    assertBad(envelope(2, (64L << 20) + 1, 16, new byte[1025 * 32], sig), "size must be");
    assertBad(envelope(3, cm.size(), 16, ds, sig), "version 3");
    // no signatures
    assertBad(envelope(2, cm.size(), 16, ds, null), "signatures");
    // trailing data
    byte[] trailing = java.util.Arrays.copyOf(enc, enc.length + 1);
    assertBad(trailing, "trailing");
  }

  private static void assertBad(byte[] envelope, String says) {
    var e = assertThrows(ManifestFormatException.class, () -> ManifestEnvelope.decode(envelope));
    assertTrue(e.getMessage().contains(says), e.getMessage());
  }

  /** A hand-made version-2 envelope (canonical layout, arbitrary values). */
  private static byte[] envelope(long v, long size, long shift, byte[] digests, String sig)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (CBORGenerator g = (CBORGenerator) ManifestCodec.CBOR.createGenerator(out)) {
      g.writeStartObject(6);
      g.writeFieldName("styx");
      g.writeString("signed-manifest");
      g.writeFieldName("v");
      g.writeNumber(v);
      g.writeFieldName("size");
      g.writeNumber(size);
      g.writeFieldName("chunkShift");
      g.writeNumber(shift);
      g.writeFieldName("digests");
      g.writeBinary(digests);
      g.writeFieldName("signatures");
      g.writeStartArray(null, sig == null ? 0 : 1);
      if (sig != null) {
        g.writeString(sig);
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    return out.toByteArray();
  }
}
