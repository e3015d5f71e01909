package dev.styx.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns exceptions from commands into one clear line on stderr and exit code 1; the stack trace is
 * printed only with {@code STYX_DEBUG=1}, since operators want the message, not the trace.
 */
final class CliErrors implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) {
    PrintWriter err = cl.getErr();
    // The full command ("styx manifest nar"), not the leaf ("nar", which is also a command).
    err.println(line(cl.getCommandSpec().qualifiedName(), ex));
    if (System.getenv("STYX_DEBUG") != null) {
      cause(ex).printStackTrace(err);
    }
    return 1;
  }

  /**
   * The same report for commands parsed without picocli ({@code styx nar}); {@code command} is what
   * follows "styx" (e.g. "nar dump"). Returns 1.
   */
  static int report(String command, Exception ex, PrintStream err) {
    err.println(line("styx " + command, ex));
    if (System.getenv("STYX_DEBUG") != null) {
      cause(ex).printStackTrace(err);
    }
    err.flush();
    return 1;
  }

  private static Throwable cause(Exception ex) {
    return ex instanceof UncheckedIOException u ? u.getCause() : ex;
  }

  private static String line(String command, Exception ex) {
    Throwable t = cause(ex);
    String what = t instanceof IOException ? "" : t.getClass().getSimpleName() + ": ";
    return command + ": " + what + t.getMessage();
  }
}
