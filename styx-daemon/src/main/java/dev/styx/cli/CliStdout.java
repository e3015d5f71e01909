package dev.styx.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;

/**
 * Binary stdout for commands that stream bytes (NAR dumps). When {@code System.out} is still the
 * JVM's own stream, bytes go straight to file descriptor 1 so file contents can move by sendfile;
 * if something redirected {@code System.out} (in-process tests), that stream is used instead.
 */
final class CliStdout {
  private static final PrintStream JVM_STDOUT = System.out;

  private CliStdout() {}

  /** Loads this class, capturing the JVM's stdout before anyone redirects it. */
  static void init() {
    // the static initializer did the work
  }

  /** The stream to write binary output to; the caller flushes but must not close it. */
  static OutputStream binary() {
    if (System.out == JVM_STDOUT) {
      System.out.flush();
      return new FileOutputStream(FileDescriptor.out);
    }
    return System.out;
  }
}
