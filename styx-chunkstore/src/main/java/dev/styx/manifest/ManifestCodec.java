package dev.styx.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import dev.styx.chunk.ChunkDigest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The manifest's versioned CBOR encoding (RFC 8949, definite lengths, shortest integers). Layout of
 * version 1, a map with exactly these keys in this order:
 *
 * <pre>
 * "styx":       "manifest"            format tag (domain-separates signatures)
 * "v":          1                     format version
 * "storePath":  text                  /nix/store/&lt;hash&gt;-&lt;name&gt;
 * "narHash":    text                  sha256:&lt;nix32&gt;
 * "narSize":    uint
 * "references": [text...]             basenames, narinfo order
 * "entries":    [entry...]            NAR order
 * entry = [0, path]                                     directory
 *       | [1, path, executable, data(bytes &lt;= 224)]     inline regular file
 *       | [2, path, executable, size, shift, digests]   chunked file; digests = n*32 bytes
 *       | [3, path, target]                             symlink
 * </pre>
 *
 * Decoding is strict: a document is accepted only if re-encoding it gives the same bytes, so every
 * manifest has exactly one encoding and a signature covers exactly one meaning.
 */
public final class ManifestCodec {
  private ManifestCodec() {}

  /** Current (and only) format version. */
  public static final int VERSION = 1;

  /** Largest encoded manifest accepted (a 1 TiB NAR of 1 MiB chunks needs ~32 MiB of digests). */
  public static final int MAX_BYTES = 64 << 20;

  /** Most entries accepted in one manifest. */
  public static final int MAX_ENTRIES = 4_000_000;

  /** Most references accepted. */
  public static final int MAX_REFERENCES = 100_000;

  static final int DIR = 0;
  static final int INLINE = 1;
  static final int CHUNKED = 2;
  static final int SYMLINK = 3;

  static final CBORFactory CBOR =
      CBORFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxStringLength(MAX_BYTES)
                  .maxNestingDepth(8)
                  .maxDocumentLength(MAX_BYTES)
                  .build())
          .build();

  /** Encodes a manifest; the same manifest always gives the same bytes. */
  public static byte[] encode(Manifest m) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(4096 + m.entries().size() * 64);
    try (CBORGenerator g = (CBORGenerator) CBOR.createGenerator(out)) {
      g.writeStartObject(7);
      g.writeFieldName("styx");
      g.writeString("manifest");
      g.writeFieldName("v");
      g.writeNumber(VERSION);
      g.writeFieldName("storePath");
      g.writeString(m.storePath());
      g.writeFieldName("narHash");
      g.writeString(m.narHash());
      g.writeFieldName("narSize");
      g.writeNumber(m.narSize());
      g.writeFieldName("references");
      g.writeStartArray(null, m.references().size());
      for (String r : m.references()) {
        g.writeString(r);
      }
      g.writeEndArray();
      g.writeFieldName("entries");
      g.writeStartArray(null, m.entries().size());
      for (ManifestEntry e : m.entries()) {
        writeEntry(g, e);
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("CBOR encoding to memory failed", e);
    }
    return out.toByteArray();
  }

  private static void writeEntry(CBORGenerator g, ManifestEntry e) throws IOException {
    switch (e) {
      case ManifestEntry.Directory d -> {
        g.writeStartArray(null, 2);
        g.writeNumber(DIR);
        g.writeString(d.path());
      }
      case ManifestEntry.InlineFile f -> {
        g.writeStartArray(null, 4);
        g.writeNumber(INLINE);
        g.writeString(f.path());
        g.writeBoolean(f.executable());
        byte[] data = f.data();
        g.writeBinary(data, 0, data.length);
      }
      case ManifestEntry.ChunkedFile f -> {
        g.writeStartArray(null, 6);
        g.writeNumber(CHUNKED);
        g.writeString(f.path());
        g.writeBoolean(f.executable());
        g.writeNumber(f.size());
        g.writeNumber(f.chunkShift());
        byte[] all = new byte[f.digests().size() * ChunkDigest.LENGTH];
        for (int i = 0; i < f.digests().size(); i++) {
          System.arraycopy(
              f.digests().get(i).bytes(), 0, all, i * ChunkDigest.LENGTH, ChunkDigest.LENGTH);
        }
        g.writeBinary(all, 0, all.length);
      }
      case ManifestEntry.Symlink s -> {
        g.writeStartArray(null, 3);
        g.writeNumber(SYMLINK);
        g.writeString(s.path());
        g.writeString(s.target());
      }
    }
    g.writeEndArray();
  }

  /** Decodes and validates a manifest; rejects anything but the one canonical encoding. */
  public static Manifest decode(byte[] bytes) throws ManifestFormatException {
    if (bytes.length > MAX_BYTES) {
      throw new ManifestFormatException(
          "manifest is " + bytes.length + " bytes (max " + MAX_BYTES + ")");
    }
    Manifest m;
    try (JsonParser p = CBOR.createParser(bytes)) {
      CborReader r = new CborReader(p, "manifest");
      r.expect(JsonToken.START_OBJECT);
      r.expectString("styx", "manifest");
      long v = r.longField("v");
      if (v != VERSION) {
        throw new ManifestFormatException(
            "unsupported manifest version " + v + " (this build reads " + VERSION + ")");
      }
      String storePath = r.stringField("storePath");
      String narHash = r.stringField("narHash");
      long narSize = r.longField("narSize");
      r.field("references");
      r.expect(JsonToken.START_ARRAY);
      List<String> refs = new ArrayList<>();
      while (r.next() != JsonToken.END_ARRAY) {
        if (refs.size() >= MAX_REFERENCES) {
          throw new ManifestFormatException("more than " + MAX_REFERENCES + " references");
        }
        refs.add(r.currentString());
      }
      r.field("entries");
      r.expect(JsonToken.START_ARRAY);
      List<ManifestEntry> entries = new ArrayList<>();
      while (r.next() != JsonToken.END_ARRAY) {
        if (entries.size() >= MAX_ENTRIES) {
          throw new ManifestFormatException("more than " + MAX_ENTRIES + " entries");
        }
        entries.add(readEntry(r, entries.size()));
      }
      r.expect(JsonToken.END_OBJECT);
      if (p.nextToken() != null) {
        throw new ManifestFormatException("trailing data after the manifest");
      }
      m = new Manifest(storePath, narHash, narSize, refs, entries);
    } catch (ManifestFormatException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new ManifestFormatException("invalid manifest: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new ManifestFormatException("manifest is not valid CBOR: " + e.getMessage(), e);
    }
    if (!Arrays.equals(encode(m), bytes)) {
      throw new ManifestFormatException("manifest is not in canonical CBOR encoding");
    }
    return m;
  }

  private static ManifestEntry readEntry(CborReader r, int index) throws IOException {
    if (r.current() != JsonToken.START_ARRAY) {
      throw new ManifestFormatException("entry " + index + " is not an array");
    }
    int type = (int) r.nextLong();
    String path = r.nextString();
    ManifestEntry e =
        switch (type) {
          case DIR -> new ManifestEntry.Directory(path);
          case INLINE -> new ManifestEntry.InlineFile(path, r.nextBoolean(), r.nextBinary());
          case CHUNKED -> {
            boolean exec = r.nextBoolean();
            long size = r.nextLong();
            long shift = r.nextLong();
            byte[] all = r.nextBinary();
            if (all.length % ChunkDigest.LENGTH != 0) {
              throw new ManifestFormatException(
                  "entry " + path + ": digests not a multiple of 32 bytes");
            }
            List<ChunkDigest> ds = new ArrayList<>(all.length / ChunkDigest.LENGTH);
            for (int off = 0; off < all.length; off += ChunkDigest.LENGTH) {
              ds.add(new ChunkDigest(Arrays.copyOfRange(all, off, off + ChunkDigest.LENGTH)));
            }
            if (shift < 0 || shift > 63) {
              throw new ManifestFormatException("entry " + path + ": bad chunk shift " + shift);
            }
            yield new ManifestEntry.ChunkedFile(path, exec, size, (int) shift, ds);
          }
          case SYMLINK -> new ManifestEntry.Symlink(path, r.nextString());
          default -> throw new ManifestFormatException("entry " + index + ": unknown type " + type);
        };
    if (r.next() != JsonToken.END_ARRAY) {
      throw new ManifestFormatException("entry " + index + " (" + path + ") has extra fields");
    }
    return e;
  }
}
