package dev.styx.manifest;

import java.io.IOException;

/** Bytes that are not a valid manifest or signed manifest (bad CBOR, bad field, over a limit). */
public final class ManifestFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public ManifestFormatException(String message) {
    super(message);
  }

  public ManifestFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
