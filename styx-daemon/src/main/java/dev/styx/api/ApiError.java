package dev.styx.api;

import java.io.IOException;

/** A request the daemon refuses, with the HTTP status the client sees (400, 404, 409, 412...). */
public final class ApiError extends IOException {
  private final int status;

  public ApiError(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }
}
