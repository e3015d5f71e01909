package dev.styx.slab;

import dev.styx.chunk.ChunkDigest;
import java.nio.ByteBuffer;

/**
 * Chunk bytes whose SHA-256 has been checked against the digest they were requested for. The slab
 * store accepts only this type, so unverified bytes cannot reach a slab.
 */
public final class VerifiedChunk {
  private final ChunkDigest digest;
  private final byte[] data;

  private VerifiedChunk(ChunkDigest digest, byte[] data) {
    this.digest = digest;
    this.data = data;
  }

  /**
   * Checks {@code data} against {@code expected} (digest and, if {@code expectedLength >= 0}, the
   * length); takes ownership of the array.
   */
  public static VerifiedChunk verify(ChunkDigest expected, int expectedLength, byte[] data)
      throws ChunkDigestMismatchException {
    if (expectedLength >= 0 && data.length != expectedLength) {
      throw new ChunkDigestMismatchException(
          "chunk "
              + expected.hex()
              + ": expected "
              + expectedLength
              + " bytes, got "
              + data.length
              + "; rejected");
    }
    ChunkDigest actual = ChunkDigest.of(data);
    if (!actual.equals(expected)) {
      throw new ChunkDigestMismatchException(expected, actual, data.length);
    }
    return new VerifiedChunk(expected, data);
  }

  public ChunkDigest digest() {
    return digest;
  }

  public int length() {
    return data.length;
  }

  /** A read-only view of the bytes. */
  public ByteBuffer data() {
    return ByteBuffer.wrap(data).asReadOnlyBuffer();
  }
}
