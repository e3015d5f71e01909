package dev.styx.cache;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.XZInputStream;

/** Decompressors for a narinfo's {@code Compression} values. */
final class Decompression {
  /**
   * Decoder memory cap for xz: {@code xz -9} needs about 65 MiB; a hostile header asking for a 1.5
   * GiB dictionary fails instead of exhausting the heap. (zstd-jni caps the window at 2^27 by
   * default; bzip2 and gzip use fixed small state.)
   */
  private static final int XZ_MEMORY_LIMIT_KIB = 160 * 1024;

  private Decompression() {}

  /** Wraps {@code raw} to decompress {@code compression}; unknown methods are an error. */
  static InputStream open(String compression, InputStream raw) throws IOException {
    InputStream in = new BufferedInputStream(raw, 128 * 1024);
    return switch (compression) {
      case "none", "" -> in;
      case "xz" -> new XZInputStream(in, XZ_MEMORY_LIMIT_KIB);
      case "zstd" -> new ZstdInputStreamNoFinalizer(in);
      case "bzip2" -> new BZip2CompressorInputStream(in, true);
      case "gzip" -> new GZIPInputStream(in, 64 * 1024);
      default -> throw new IOException("unsupported NAR compression '" + compression + "'");
    };
  }
}
