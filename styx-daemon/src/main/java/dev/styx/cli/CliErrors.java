package dev.styx.cli;

import java.io.IOException;
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
    Throwable t = ex instanceof UncheckedIOException u ? u.getCause() : ex;
    String what = t instanceof IOException ? "" : t.getClass().getSimpleName() + ": ";
    cl.getErr().println("styx " + cl.getCommandName() + ": " + what + t.getMessage());
    if (System.getenv("STYX_DEBUG") != null) {
      t.printStackTrace(cl.getErr());
    }
    return 1;
  }
}
