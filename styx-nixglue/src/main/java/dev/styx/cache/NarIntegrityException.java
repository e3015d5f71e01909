package dev.styx.cache;

/** Downloaded bytes do not match the narinfo's FileHash/FileSize or NarHash/NarSize. */
public final class NarIntegrityException extends BinaryCacheException {
  /** A mismatch, described with the URL and both values. */
  public NarIntegrityException(String message) {
    super(message);
  }
}
