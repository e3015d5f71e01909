package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import java.io.IOException;
import java.util.concurrent.Future;

/**
 * Where {@link ManifestBuilder} sends file chunks (hash, compress, store: possibly in parallel).
 */
public interface ChunkConsumer {
  /** A buffer of at least {@code size} bytes for the builder to fill with the next chunk. */
  default byte[] buffer(int size) {
    return new byte[size];
  }

  /**
   * Takes ownership of {@code buf[0, len)} (one chunk) and returns its digest, possibly computed
   * later. May block to apply back-pressure.
   */
  Future<ChunkDigest> accept(byte[] buf, int len) throws IOException;

  /**
   * As {@link #accept(byte[], int)} for a chunk whose digest the builder computed as it read the
   * chunk (in one pass with the NarHash); a consumer may use it instead of hashing again. This
   * default does not: it hashes.
   */
  default Future<ChunkDigest> accept(byte[] buf, int len, ChunkDigest digest) throws IOException {
    return accept(buf, len);
  }

  /**
   * Starts work on every chunk accepted so far; a consumer that batches chunks holds them until
   * this (or a full batch). The builder calls it before it waits for digests.
   */
  default void flush() throws IOException {}

  /**
   * After a failure: skips chunks not yet started and waits for those being written, so that when
   * it returns nothing of this ingest is still being written (no temp file appears later).
   */
  default void abort() {}
}
