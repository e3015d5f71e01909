package dev.styx.kernel;

import java.io.IOException;

/** A failed system call: which call, with what arguments, and the errno it returned. */
public final class SyscallException extends IOException {
  private final int errno;

  public SyscallException(String call, int errno, String strerror) {
    super(call + " failed: " + strerror + " (errno " + errno + ")");
    this.errno = errno;
  }

  /** The errno value, e.g. 2 for ENOENT. */
  public int errno() {
    return errno;
  }
}
