package dev.styx.slab;

import dev.styx.chunk.ChunkDigest;
import java.io.IOException;

/** Bytes that do not hash to the digest they were fetched for; they are never written. */
public final class ChunkDigestMismatchException extends IOException {
  public ChunkDigestMismatchException(ChunkDigest expected, ChunkDigest actual, int length) {
    super(
        "chunk digest mismatch: expected "
            + expected.hex()
            + ", got "
            + actual.hex()
            + " ("
            + length
            + " bytes); rejected");
  }

  public ChunkDigestMismatchException(String message) {
    super(message);
  }
}
