package dev.styx.nar;

import java.io.IOException;

/** A NAR that violates the format; the message names the byte offset of the fault. */
public final class NarFormatException extends IOException {
  private final long offset;

  /** A fault at byte {@code offset} of the NAR. */
  public NarFormatException(long offset, String message) {
    super("invalid NAR at byte offset " + offset + ": " + message);
    this.offset = offset;
  }

  /** Byte offset in the NAR where the fault was detected. */
  public long offset() {
    return offset;
  }
}
