package dev.styx.hash;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Pinned;

/**
 * The native SHA-256 block functions ({@code src/main/c/sha256_blocks.c}, built into this jar for
 * x86_64 Linux), through jnr-ffi (public only because jnr-ffi implements it in another class
 * loader; use {@link Sha256}). Arrays are pinned for the call, never copied.
 */
public interface Sha256Blocks {
  /** 1 if this CPU has the SHA extensions (and SSE4.1, SSSE3) the block functions use. */
  int styx_sha256_supported();

  /** Runs {@code nblocks} 64-byte blocks of {@code data[off..]} through {@code state}. */
  void styx_sha256_blocks(@Pinned int[] state, @Pinned @In byte[] data, long off, long nblocks);

  /** The same for two messages at once, interleaved. */
  void styx_sha256_blocks2(
      @Pinned int[] stateA,
      @Pinned @In byte[] a,
      long aOff,
      @Pinned int[] stateB,
      @Pinned @In byte[] b,
      long bOff,
      long nblocks);

  /** Where the library sits in the jar. */
  String RESOURCE = "/dev/styx/hash/native/linux-x86_64/libstyx-sha256.so";

  /** The library, if it is in the jar, loads, and this CPU supports it. */
  static Optional<Sha256Blocks> get() {
    return Holder.LIB;
  }

  /** Loads once, on first use; {@link #failure} says why not. */
  final class Holder {
    private Holder() {}

    static String failure = "not tried";
    static final Optional<Sha256Blocks> LIB = load();

    private static Optional<Sha256Blocks> load() {
      if (Boolean.getBoolean("styx.sha256.jdkOnly")) {
        failure = "switched off (-Dstyx.sha256.jdkOnly=true)";
        return Optional.empty();
      }
      if (!System.getProperty("os.arch").equals("amd64")
          || !System.getProperty("os.name").equals("Linux")) {
        failure =
            "no native build for "
                + System.getProperty("os.name")
                + "/"
                + System.getProperty("os.arch");
        return Optional.empty();
      }
      try (InputStream in = Sha256Blocks.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          failure = "not built into this jar (" + RESOURCE + "; needs gcc at build time)";
          return Optional.empty();
        }
        // jnr-ffi loads from a file: copy it out, load, and unlink (the mapping stays).
        Path f = Files.createTempFile("styx-sha256-", ".so");
        try {
          Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          Sha256Blocks lib =
              LibraryLoader.create(Sha256Blocks.class).failImmediately().load(f.toString());
          if (lib.styx_sha256_supported() != 1) {
            failure = "this CPU lacks the SHA extensions";
            return Optional.empty();
          }
          failure = null;
          return Optional.of(lib);
        } finally {
          Files.deleteIfExists(f);
        }
      } catch (IOException | LinkageError | RuntimeException e) {
        failure = "failed to load: " + e;
        return Optional.empty();
      }
    }
  }
}
