package dev.styx.fetch;

import java.io.IOException;

/** A chunk fetch that failed for good: after bounded retries, or with a final HTTP status. */
public class FetchException extends IOException {
  private final int status;

  public FetchException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status of the last attempt, or 0 if there was no response (network, timeout). */
  public int status() {
    return status;
  }
}
