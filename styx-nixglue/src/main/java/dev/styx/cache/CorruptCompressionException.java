package dev.styx.cache;

import java.io.IOException;

/** The compressed NAR file could not be decoded: it is damaged or not what its narinfo says. */
public final class CorruptCompressionException extends IOException {
  public CorruptCompressionException(String message) {
    super(message);
  }
}
