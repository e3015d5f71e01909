package dev.styx.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the styx CLI in-process with stdin/stdout/stderr redirected (tests run sequentially). */
record CliRun(int exitCode, byte[] stdout, String stderr) {

  String out() {
    return new String(stdout, StandardCharsets.UTF_8);
  }

  static CliRun run(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CliRun r = run(stdin == null ? null : new ByteArrayInputStream(stdin), out, args);
    return new CliRun(r.exitCode, out.toByteArray(), r.stderr);
  }

  /** Runs with stdout going to {@code out} (e.g. a digesting stream for big NARs). */
  static CliRun run(InputStream stdin, OutputStream out, String... args) {
    CliStdout.init(); // capture the real stdout before redirecting it
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    InputStream oldIn = System.in;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    StringWriter picoErr = new StringWriter();
    try {
      System.setOut(new PrintStream(out, false));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      System.setIn(stdin == null ? InputStream.nullInputStream() : stdin);
      var cl = Styx.commandLine();
      cl.setErr(new PrintWriter(picoErr, true));
      int rc = cl.execute(args);
      System.out.flush();
      return new CliRun(rc, new byte[0], err.toString(StandardCharsets.UTF_8) + picoErr);
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
      System.setIn(oldIn);
    }
  }
}
