package dev.styx.cache;

import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/**
 * The three liblzma entry points the in-process xz decoder needs (liblzma.so.5, the library the
 * {@code xz} tool itself runs on; API of {@code lzma/base.h} and {@code lzma/container.h}).
 */
public interface LibLzma {
  /** {@code lzma_ret lzma_stream_decoder(lzma_stream *strm, uint64_t memlimit, uint32_t flags)}. */
  int lzma_stream_decoder(Pointer strm, long memlimit, int flags);

  /** {@code lzma_ret lzma_code(lzma_stream *strm, lzma_action action)}. */
  int lzma_code(Pointer strm, int action);

  /** {@code void lzma_end(lzma_stream *strm)}. */
  void lzma_end(Pointer strm);

  /**
   * The multi-threaded decoder entry point ({@code lzma_ret lzma_stream_decoder_mt(lzma_stream
   * *strm, const lzma_mt *options)}, liblzma 5.4 and later), or empty when this liblzma lacks it.
   */
  static Optional<Mt> mt() {
    return Holder.MT;
  }

  /** {@code lzma_stream_decoder_mt}, bound on its own so an older liblzma still loads the rest. */
  interface Mt {
    /** {@code lzma_ret lzma_stream_decoder_mt(lzma_stream *strm, const lzma_mt *options)}. */
    int lzma_stream_decoder_mt(Pointer strm, Pointer options);
  }

  /** The loaded library, or empty when liblzma.so.5 is not on this machine. */
  static Optional<LibLzma> get() {
    return Holder.LIB;
  }

  /** Loads once, on first use. */
  final class Holder {
    private Holder() {}

    static final Optional<LibLzma> LIB = load(LibLzma.class);
    static final Optional<Mt> MT = LIB.isPresent() ? load(Mt.class) : Optional.empty();

    private static <T> Optional<T> load(Class<T> api) {
      // "lzma" finds liblzma.so (the -dev symlink); liblzma.so.5 is the runtime file (liblzma5).
      for (String name : new String[] {"lzma", "liblzma.so.5"}) {
        try {
          return Optional.of(LibraryLoader.create(api).failImmediately().load(name));
        } catch (LinkageError | RuntimeException e) {
          // try the next name
        }
      }
      return Optional.empty();
    }
  }
}
