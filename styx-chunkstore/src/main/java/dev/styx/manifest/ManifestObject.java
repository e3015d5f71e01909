package dev.styx.manifest;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.IOException;

/**
 * A signed manifest as stored in the manifest cache and sent over HTTP: one zstd frame (with
 * content size) of a {@link ManifestEnvelope} encoding, inline ({@link SignedManifest}) or chunked
 * ({@link ChunkedManifest}). Readers also accept the bare envelope.
 */
public final class ManifestObject {
  private ManifestObject() {}

  private static final int ZSTD_MAGIC = 0xFD2FB528;

  /** Compresses an envelope for storage. */
  public static byte[] wrap(ManifestEnvelope sm) {
    try (ZstdCompressCtx c = new ZstdCompressCtx()) {
      c.setLevel(9);
      c.setContentSize(true);
      c.setChecksum(true);
      return c.compress(sm.encode());
    }
  }

  /** Whether {@code bytes} start with the zstd frame magic. */
  public static boolean isZstd(byte[] bytes) {
    return bytes.length >= 4
        && ((bytes[0] & 0xff)
                | (bytes[1] & 0xff) << 8
                | (bytes[2] & 0xff) << 16
                | (bytes[3] & 0xff) << 24)
            == ZSTD_MAGIC;
  }

  /**
   * Decodes a stored object that holds an inline manifest (zstd frame or bare envelope); a chunked
   * one is refused with a message that says so. Signatures are not checked here.
   */
  public static SignedManifest unwrap(byte[] bytes) throws IOException {
    return unwrap(bytes, null);
  }

  /**
   * Decodes a stored object, fetching a chunked manifest's chunks from {@code chunks} (each checked
   * against its digest). Signatures are not checked here.
   */
  public static SignedManifest unwrap(byte[] bytes, ChunkProvider chunks) throws IOException {
    return decode(bytes).join(chunks);
  }

  /** Decodes a stored object (zstd frame or bare envelope) to its envelope, inline or chunked. */
  public static ManifestEnvelope decode(byte[] bytes) throws ManifestFormatException {
    if (!isZstd(bytes)) {
      return ManifestEnvelope.decode(bytes);
    }
    long size = Zstd.getFrameContentSize(bytes);
    int max = ManifestCodec.MAX_BYTES + 64 * 1024;
    if (size < 0 || size > max) {
      throw new ManifestFormatException(
          "manifest object has no usable content size (" + size + ")");
    }
    byte[] raw;
    try (ZstdDecompressCtx d = new ZstdDecompressCtx()) {
      raw = d.decompress(bytes, (int) size);
    } catch (ZstdException e) {
      throw new ManifestFormatException(
          "manifest object is a broken zstd frame: " + e.getMessage(), e);
    }
    return ManifestEnvelope.decode(raw);
  }
}
