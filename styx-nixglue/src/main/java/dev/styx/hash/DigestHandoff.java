package dev.styx.hash;

import java.util.Optional;

/**
 * A stream that checks its own SHA-256 at its end and lets its reader compute that digest instead,
 * so the reader can hash the bytes once for both (with {@link Sha256#updateBoth}).
 */
public interface DigestHandoff {
  /**
   * Hands the stream's digest to the caller, who from now on must update it with every byte read
   * from this stream, in order, before each further read; at its end the stream checks the caller's
   * digest in place of its own. Empty (and nothing changes) when the stream cannot: its digest is
   * not SHA-256, reading has begun, it was handed off already, or {@link Sha256} is not {@linkplain
   * Sha256#available() available}.
   */
  Optional<Sha256> handOffDigest();
}
