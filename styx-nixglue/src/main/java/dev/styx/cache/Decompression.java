package dev.styx.cache;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.lz4.FramedLZ4CompressorInputStream;
import org.apache.commons.compress.compressors.z.ZCompressorInputStream;
import org.brotli.dec.BrotliInputStream;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.XZInputStream;

/** Decompressors for a narinfo's {@code Compression} values. */
final class Decompression {
  /**
   * Decoder memory cap for xz: {@code xz -9} needs about 65 MiB; a hostile header asking for a 1.5
   * GiB dictionary fails instead of exhausting the heap; the same cap holds for lzma and lzip.
   * (zstd-jni caps the window at 2^27 by default; bzip2, gzip and lz4 use fixed small state and
   * brotli at most a 16 MiB window.)
   */
  private static final int XZ_MEMORY_LIMIT_KIB = 160 * 1024;

  /** LZW ({@code compress}) tables are at most 2^16 entries; the cap only refuses nonsense. */
  private static final int Z_MEMORY_LIMIT_KIB = 16 * 1024;

  private Decompression() {}

  /** Whether {@code compression} stores the NAR as is (file bytes == NAR bytes). */
  static boolean isIdentity(String compression) {
    return compression.equals("none") || compression.isEmpty();
  }

  /**
   * Set to {@code false} to always use the Java decoders (tests of the fallback, benches); by
   * default xz is decoded by liblzma in process (else an {@code xz} child) and zstd by a {@code
   * zstd} child when one is on PATH.
   */
  static final String EXTERNAL_PROPERTY = "styx.nar.externalDecoders";

  /**
   * Set to {@code false} to decode xz with the {@code xz} child instead of liblzma in process
   * (tests of the child path); liblzma is preferred: same decoder, no pipe.
   */
  static final String LIBLZMA_PROPERTY = "styx.nar.liblzma";

  /**
   * Decoder threads for a multi-block .xz ({@code -Dstyx.nar.xzThreads}, default one per core; 1
   * decodes every file on one thread). A multi-block file is what {@code xz -T} and Nix's {@code
   * parallel-compression=true} write: decoding its blocks in parallel takes the xz decoder off the
   * ingest's critical path, which on a single decoder thread shares its core with zstd.
   */
  static int xzThreads() {
    return Math.max(
        1,
        Integer.getInteger(
            "styx.nar.xzThreads", java.lang.Runtime.getRuntime().availableProcessors()));
  }

  /** liblzma for an xz NAR, if native decoders are enabled and the library loads. */
  static Optional<LibLzma> liblzma(String compression) {
    if (!compression.equals("xz")
        || !Boolean.parseBoolean(System.getProperty(EXTERNAL_PROPERTY, "true"))
        || !Boolean.parseBoolean(System.getProperty(LIBLZMA_PROPERTY, "true"))) {
      return Optional.empty();
    }
    return LibLzma.get();
  }

  /** The external decoder command for {@code compression}, if enabled and on PATH. */
  static Optional<List<String>> externalCommand(String compression) {
    if (!Boolean.parseBoolean(System.getProperty(EXTERNAL_PROPERTY, "true"))) {
      return Optional.empty();
    }
    return switch (compression) {
      case "xz" ->
          onPath("xz").map(xz -> List.of(xz, "-dc", "--memlimit=" + XZ_MEMORY_LIMIT_KIB + "KiB"));
      // zstd's CLI refuses windows above 128 MiB unless told otherwise, as zstd-jni does.
      case "zstd" -> onPath("zstd").map(z -> List.of(z, "-dcq"));
      default -> Optional.empty();
    };
  }

  private static final ConcurrentHashMap<String, Optional<String>> FOUND =
      new ConcurrentHashMap<>();

  private static Optional<String> onPath(String name) {
    return FOUND.computeIfAbsent(
        name,
        n -> {
          String path = System.getenv("PATH");
          if (path == null) {
            return Optional.empty();
          }
          for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
              continue;
            }
            Path p = Path.of(dir, n);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
              return Optional.of(p.toString());
            }
          }
          return Optional.empty();
        });
  }

  /**
   * Wraps {@code raw} to decompress {@code compression}; unknown methods are an error. {@code what}
   * names the file in errors.
   */
  static InputStream open(String compression, InputStream raw, String what) throws IOException {
    Optional<LibLzma> lzma = liblzma(compression);
    if (lzma.isPresent()) {
      return new ReadAheadInputStream(
          new LzmaInputStream(lzma.get(), raw, XZ_MEMORY_LIMIT_KIB * 1024L, xzThreads(), what),
          compression);
    }
    Optional<List<String>> ext = externalCommand(compression);
    if (ext.isPresent()) {
      return new ReadAheadInputStream(new ExternalDecoderStream(ext.get(), raw, what), compression);
    }
    if (isIdentity(compression)) {
      return raw; // the NAR reader buffers; another buffer would only add a copy
    }
    // Decode on a read-ahead thread, in parallel with the consumer's hashing and parsing.
    if (!IN_PROCESS.contains(compression)) {
      throw new IOException( // not corrupt: the manifester answers 422 unsupported-compression
          "unsupported NAR compression '"
              + compression
              + "' for "
              + what
              + " (supported: none, "
              + String.join(", ", IN_PROCESS)
              + ")");
    }
    RawErrors rawErrors = new RawErrors(raw);
    InputStream decoder;
    try {
      decoder = inProcess(compression, rawErrors, what); // most read a header here
    } catch (IOException e) {
      throw DecoderErrors.named(e, rawErrors, compression, what);
    }
    return new ReadAheadInputStream(
        new DecoderErrors(decoder, rawErrors, compression, what), compression);
  }

  /** Remembers the last error the compressed stream itself threw (transport, size, hash). */
  private static final class RawErrors extends FilterInputStream {
    volatile IOException last;

    RawErrors(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        last = e;
        throw e;
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        last = e;
        throw e;
      }
    }
  }

  /**
   * Names a Java decoder's own failures: the libraries throw bare messages ("Unexpected end of
   * stream", "Brotli stream decoding failed") or, for xz's LZMA decoder on a cut file, an {@link
   * EOFException} with none. The operator reads which file, which format and why. Errors of the
   * compressed stream itself (a transport failure, FileSize or FileHash) pass through unchanged.
   */
  private static final class DecoderErrors extends FilterInputStream {
    private final RawErrors raw;
    private final String compression;
    private final String what;

    DecoderErrors(InputStream in, RawErrors raw, String compression, String what) {
      super(in);
      this.raw = raw;
      this.compression = compression;
      this.what = what;
    }

    private IOException named(IOException e) {
      return named(e, raw, compression, what);
    }

    static IOException named(IOException e, RawErrors raw, String compression, String what) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t == raw.last || t instanceof CorruptCompressionException) {
          return e;
        }
      }
      String why =
          e instanceof EOFException
              ? "ends early (truncated file?)"
              : "cannot be decoded: " + (e.getMessage() == null ? e.toString() : e.getMessage());
      var c = new CorruptCompressionException(compression + " data of " + what + " " + why);
      c.initCause(e);
      return c;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw named(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException e) {
        throw named(e);
      }
    }
  }

  /** The compressions {@link #inProcess} decodes. */
  static final List<String> IN_PROCESS =
      List.of("xz", "zstd", "bzip2", "gzip", "br", "lz4", "lzma", "lzip", "compress");

  private static InputStream inProcess(String compression, InputStream raw, String what)
      throws IOException {
    InputStream in = new BufferedInputStream(raw, 128 * 1024);
    return switch (compression) {
      case "xz" -> new XZInputStream(in, XZ_MEMORY_LIMIT_KIB);
      case "zstd" -> new ZstdInputStreamNoFinalizer(in);
      case "bzip2" -> new BZip2CompressorInputStream(in, true);
      case "gzip" -> new GZIPInputStream(in, 64 * 1024);
      // The rest are what Nix also writes (through libarchive, or brotli for br) and reads back.
      case "br" -> new BrotliInputStream(in);
      case "lz4" -> new FramedLZ4CompressorInputStream(in, true);
      case "lzma" -> new LZMAInputStream(in, XZ_MEMORY_LIMIT_KIB);
      case "lzip" -> new LzipInputStream(in, XZ_MEMORY_LIMIT_KIB, what);
      case "compress" -> new ZCompressorInputStream(in, Z_MEMORY_LIMIT_KIB);
      default ->
          throw new IllegalStateException(compression + " is not in IN_PROCESS"); // open checks
    };
  }
}
