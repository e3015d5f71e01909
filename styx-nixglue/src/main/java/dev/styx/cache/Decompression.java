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
  private Decompression() {}

  /** Wraps {@code raw} to decompress {@code compression}; unknown methods are an error. */
  static InputStream open(String compression, InputStream raw) throws IOException {
    InputStream in = new BufferedInputStream(raw, 128 * 1024);
    return switch (compression) {
      case "none", "" -> in;
      case "xz" -> new XZInputStream(in);
      case "zstd" -> new ZstdInputStreamNoFinalizer(in);
      case "bzip2" -> new BZip2CompressorInputStream(in, true);
      case "gzip" -> new GZIPInputStream(in, 64 * 1024);
      default -> throw new IOException("unsupported NAR compression '" + compression + "'");
    };
  }
}
