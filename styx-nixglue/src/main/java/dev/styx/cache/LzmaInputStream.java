package dev.styx.cache;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * An .xz stream decoded in this process by liblzma through jnr-ffi: the same decoder as {@code xz
 * -dc}, without the child process and the pipe it writes through in 8 KiB pieces (measured: a third
 * of a core of pipe wake-ups at 39 MB/s). Concatenated streams are accepted as {@code xz -dc}
 * accepts them; integrity checks (CRC64, SHA-256) are verified by liblzma; a truncated or corrupt
 * stream fails with {@link CorruptCompressionException}. Reads must come from one thread at a time
 * (a platform thread: {@code lzma_code} is a native call); {@link #close} may come from another.
 */
final class LzmaInputStream extends BulkInputStream {
  // lzma_stream (lzma/base.h), x86-64: next_in@0, avail_in@8, total_in@16, next_out@24,
  // avail_out@32, total_out@40, allocator@48, internal@56, four reserved pointers, two uint64,
  // two size_t and two enums: 136 bytes, all zero = LZMA_STREAM_INIT.
  private static final int STREAM_SIZE = 136;
  private static final int NEXT_IN = 0;
  private static final int AVAIL_IN = 8;
  private static final int NEXT_OUT = 24;
  private static final int AVAIL_OUT = 32;

  // lzma_ret values and lzma_action / decoder flags (lzma/base.h, lzma/container.h).
  private static final int LZMA_OK = 0;
  private static final int LZMA_STREAM_END = 1;
  private static final int LZMA_MEM_ERROR = 5;
  private static final int LZMA_MEMLIMIT_ERROR = 6;
  private static final int LZMA_FORMAT_ERROR = 7;
  private static final int LZMA_OPTIONS_ERROR = 8;
  private static final int LZMA_DATA_ERROR = 9;
  private static final int LZMA_BUF_ERROR = 10;
  private static final int LZMA_RUN = 0;
  private static final int LZMA_FINISH = 3;
  private static final int LZMA_CONCATENATED = 0x08;

  // lzma_mt (lzma/container.h), x86-64: flags@0, threads@4, block_size@8, timeout@16, preset@20,
  // filters@24, check@32, reserved enums and ints, memlimit_threading@64, memlimit_stop@72, then
  // reserved fields: 128 bytes (checked against the 5.4.1 header with offsetof).
  private static final int MT_SIZE = 128;
  private static final int MT_FLAGS = 0;
  private static final int MT_THREADS = 4;
  private static final int MT_MEMLIMIT_THREADING = 64;
  private static final int MT_MEMLIMIT_STOP = 72;

  private static final int IN_SIZE = 128 * 1024;
  private static final int OUT_SIZE = 256 * 1024;

  private final InputStream compressed;
  private final String what;
  private final Pointer strm;
  private final Pointer in;
  private final Pointer out;
  private final byte[] inArray = new byte[IN_SIZE];
  private final Decoder decoder;
  private int outPos;
  private int outLen;
  private boolean inputEof;
  private boolean ended;

  private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

  /**
   * The liblzma state: lzma_code and lzma_end under one monitor (close may come from another
   * thread), ended exactly once, also by a cleaner if a stream is dropped unclosed.
   */
  private static final class Decoder implements Runnable {
    private final LibLzma lib;
    private final Pointer strm;
    private boolean freed;

    Decoder(LibLzma lib, Pointer strm) {
      this.lib = lib;
      this.strm = strm;
    }

    synchronized int code(int action) throws IOException {
      if (freed) {
        throw new IOException("stream closed");
      }
      return lib.lzma_code(strm, action);
    }

    @Override
    public synchronized void run() {
      if (!freed) {
        freed = true;
        lib.lzma_end(strm); // frees the dictionary (up to the memory limit)
      }
    }
  }

  /**
   * Starts a decoder over {@code compressed}; {@code memlimit} bounds liblzma's memory (a hostile
   * header asking for more fails); {@code what} names the file in errors. With {@code threads} > 1
   * and a liblzma that has it, the multi-threaded decoder: an .xz of several blocks whose headers
   * record their sizes (what {@code xz -T}, and Nix's {@code parallel-compression}, write) is
   * decoded a block per thread, in order, as long as that fits in {@code memlimit}; any other file
   * is decoded on one thread exactly as before.
   */
  LzmaInputStream(LibLzma lib, InputStream compressed, long memlimit, int threads, String what)
      throws IOException {
    this.compressed = compressed;
    this.what = what;
    Runtime rt = Runtime.getRuntime(lib);
    this.strm = Memory.allocateDirect(rt, STREAM_SIZE, true);
    this.in = Memory.allocateDirect(rt, IN_SIZE);
    this.out = Memory.allocateDirect(rt, OUT_SIZE);
    Optional<LibLzma.Mt> mt = threads > 1 ? LibLzma.mt() : Optional.empty();
    int r;
    if (mt.isPresent()) {
      Pointer options = Memory.allocateDirect(rt, MT_SIZE, true);
      options.putInt(MT_FLAGS, LZMA_CONCATENATED);
      options.putInt(MT_THREADS, threads);
      // timeout 0: lzma_code blocks until it has output, like the single-threaded decoder.
      options.putLong(MT_MEMLIMIT_THREADING, memlimit); // over it: one thread, not an error
      options.putLong(MT_MEMLIMIT_STOP, memlimit);
      r = mt.get().lzma_stream_decoder_mt(strm, options);
    } else {
      r = lib.lzma_stream_decoder(strm, memlimit, LZMA_CONCATENATED);
    }
    if (r != LZMA_OK) {
      throw new IOException("liblzma: lzma_stream_decoder failed (" + r + ") for " + what);
    }
    this.decoder = new Decoder(lib, strm);
    CLEANER.register(this, decoder);
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (outPos == outLen) {
      if (ended) {
        return -1;
      }
      decode();
    }
    int n = Math.min(len, outLen - outPos);
    out.get(outPos, b, off, n);
    outPos += n;
    return n;
  }

  /** One lzma_code call: refills the input if liblzma used it all, then fills {@code out}. */
  private void decode() throws IOException {
    if (strm.getLong(AVAIL_IN) == 0 && !inputEof) {
      int n = compressed.read(inArray, 0, IN_SIZE); // outside the lock: may block on the network
      if (n < 0) {
        inputEof = true;
      } else {
        in.put(0, inArray, 0, n);
        strm.putAddress(NEXT_IN, in.address());
        strm.putLong(AVAIL_IN, n);
      }
    }
    strm.putAddress(NEXT_OUT, out.address());
    strm.putLong(AVAIL_OUT, OUT_SIZE);
    int r = decoder.code(inputEof ? LZMA_FINISH : LZMA_RUN);
    outPos = 0;
    outLen = OUT_SIZE - (int) strm.getLong(AVAIL_OUT);
    switch (r) {
      case LZMA_OK -> {}
      case LZMA_STREAM_END -> {
        ended = true;
        decoder.run(); // done: free the dictionary now, not at close
      }
      // With LZMA_FINISH and no progress possible: the input ended inside a stream.
      case LZMA_BUF_ERROR -> throw corrupt("unexpected end of input");
      case LZMA_FORMAT_ERROR -> throw corrupt("file format not recognized");
      case LZMA_OPTIONS_ERROR -> throw corrupt("unsupported options");
      case LZMA_DATA_ERROR -> throw corrupt("compressed data is corrupt");
      case LZMA_MEMLIMIT_ERROR -> throw corrupt("memory usage limit reached");
      case LZMA_MEM_ERROR -> throw new IOException("liblzma: out of memory decoding " + what);
      default -> throw corrupt("lzma_code error " + r);
    }
  }

  private CorruptCompressionException corrupt(String why) {
    return new CorruptCompressionException("liblzma failed on " + what + ": " + why);
  }

  @Override
  public void close() throws IOException {
    try {
      compressed.close(); // unblocks a reader waiting for input
    } finally {
      decoder.run();
    }
  }
}
