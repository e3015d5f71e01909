package dev.styx.manifest;

import java.io.IOException;

/** The manifester (or a chunk server) answered with an error; says whether a retry may help. */
public final class ManifestRequestException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  public ManifestRequestException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The HTTP status (0 for transport failures). */
  public int status() {
    return status;
  }

  /** The server's machine-readable reason, e.g. {@code upstream-untrusted}, or "" if none. */
  public String code() {
    return code;
  }

  /** True for transport failures and 502/503/504. */
  public boolean retryable() {
    return status == 0 || status == 502 || status == 503 || status == 504;
  }
}
