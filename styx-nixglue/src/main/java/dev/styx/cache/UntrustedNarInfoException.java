package dev.styx.cache;

/** A narinfo whose signatures do not verify under any trusted key. */
public final class UntrustedNarInfoException extends BinaryCacheException {
  /** The narinfo at the named URL is untrusted. */
  public UntrustedNarInfoException(String message) {
    super(message);
  }
}
