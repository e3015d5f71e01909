package dev.styx.narinfo;

/** A narinfo or nix-cache-info document that does not parse; the message names line and key. */
public final class NarInfoFormatException extends IllegalArgumentException {
  /** A parse failure. */
  public NarInfoFormatException(String message) {
    super(message);
  }

  /** A parse failure caused by {@code cause}. */
  public NarInfoFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
