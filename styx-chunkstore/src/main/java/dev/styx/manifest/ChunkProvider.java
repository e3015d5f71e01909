package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import java.io.IOException;

/** Supplies chunk bytes by digest, in the order asked; implementations verify what they fetch. */
public interface ChunkProvider {
  /** The bytes of the chunk {@code d}, exactly {@code length} long. */
  byte[] chunk(ChunkDigest d, int length) throws IOException;
}
