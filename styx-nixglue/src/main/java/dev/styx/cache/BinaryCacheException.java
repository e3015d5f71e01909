package dev.styx.cache;

import java.io.IOException;

/** A binary cache request failed (status, transport, malformed document); names the URL. */
public class BinaryCacheException extends IOException {
  /** A failure with a message naming the URL. */
  public BinaryCacheException(String message) {
    super(message);
  }

  /** A failure with its cause. */
  public BinaryCacheException(String message, Throwable cause) {
    super(message, cause);
  }
}
