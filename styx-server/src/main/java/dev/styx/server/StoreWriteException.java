package dev.styx.server;

import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.io.IOException;

/**
 * Writing to the manifester's own store failed (a chunk or a manifest object): a local fault, never
 * the upstream's, so the client is told so instead of "upstream I/O". Nothing partial is visible:
 * the store writes unnamed files and links them in only when complete.
 */
final class StoreWriteException extends IOException {
  private static final long serialVersionUID = 1L;

  StoreWriteException(String what, IOException cause) {
    super("writing " + what + " to the manifester's store failed: " + cause.getMessage(), cause);
  }

  /**
   * Whether the file system is out of space or quota (ENOSPC, EDQUOT): by errno where the store
   * wrote through its syscalls, by the JDK's text where it fell back to java.nio.
   */
  boolean outOfSpace() {
    if (getCause() instanceof SyscallException e) {
      return e.errno() == Syscalls.ENOSPC || e.errno() == Syscalls.EDQUOT;
    }
    String m = String.valueOf(getCause().getMessage());
    return m.contains("No space left on device") || m.contains("Disk quota exceeded");
  }
}
