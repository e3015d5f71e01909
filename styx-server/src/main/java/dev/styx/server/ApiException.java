package dev.styx.server;

/**
 * A request failure with the HTTP status the client sees. The status tells the client whether to
 * retry: 4xx (and 500) are permanent for this request, 502/503/504 are worth retrying.
 */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  public ApiException(int status, String code, String message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  public ApiException(int status, String code, String message, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  /** A short machine-readable reason, e.g. {@code upstream-not-allowed}. */
  public String code() {
    return code;
  }

  /** Whether retrying the same request later may succeed. */
  public boolean retryable() {
    return isRetryable(status);
  }

  public static boolean isRetryable(int status) {
    return status == 502 || status == 503 || status == 504;
  }

  public static ApiException badRequest(String message) {
    return new ApiException(400, "bad-request", message);
  }

  public static ApiException notFound(String code, String message) {
    return new ApiException(404, code, message);
  }
}
