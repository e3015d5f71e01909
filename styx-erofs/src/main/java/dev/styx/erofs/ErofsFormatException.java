package dev.styx.erofs;

import java.io.IOException;

/** An image is malformed, truncated or uses a feature this reader does not support. */
public final class ErofsFormatException extends IOException {
  public ErofsFormatException(String message) {
    super(message);
  }
}
