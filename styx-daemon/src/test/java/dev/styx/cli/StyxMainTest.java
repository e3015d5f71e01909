package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.GeneratedTree;
import dev.styx.testing.Tiers;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The jar's entry point: {@code styx nar ...} parsed by hand (no picocli) must behave like the
 * picocli pass-through that {@code styx --help}, {@code styx help nar} and in-process callers use.
 */
class StyxMainTest {
  @TempDir Path tmp;

  /** Runs {@link StyxMain#run} (the path the jar takes) with stdout/stderr captured. */
  static CliRun main(byte[] stdin, String... args) {
    CliStdout.init();
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    InputStream oldIn = System.in;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, false));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      System.setIn(new java.io.ByteArrayInputStream(stdin == null ? new byte[0] : stdin));
      int rc = StyxMain.run(args);
      System.out.flush();
      return new CliRun(rc, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
      System.setIn(oldIn);
    }
  }

  @Test
  void narOnTheFastPathEqualsNixAndThePicocliPath() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] nix = NarCommandTest.nixDump(tree);
    CliRun fast = main(null, "nar", "dump", tree.toString());
    assertEquals(0, fast.exitCode(), fast.stderr());
    assertArrayEquals(nix, fast.stdout());
    // "--" ends the options on both paths (picocli must hand it through, not eat it).
    assertArrayEquals(nix, main(null, "nar", "dump", "--", tree.toString()).stdout());
    assertArrayEquals(nix, CliRun.run(null, "nar", "dump", "--", tree.toString()).stdout());

    String hash = NarCommandTest.nixHash(tree);
    assertEquals(hash + "\n", main(null, "nar", "hash", tree.toString()).out());
    assertEquals(
        hash + " " + nix.length + "\n", main(null, "nar", "hash", "--size", tree.toString()).out());
    assertEquals(1, main(null, "nar", "ls", "-").exitCode(), "ls of an empty stdin must fail");
    Path narFile = Files.write(tmp.resolve("tree.nar"), nix);
    CliRun ls = main(null, "nar", "ls", "--offsets", narFile.toString());
    assertEquals(0, ls.exitCode(), ls.stderr());
    assertEquals(CliRun.run(null, "nar", "ls", "--offsets", narFile.toString()).out(), ls.out());
    assertTrue(ls.out().contains("  @"), ls.out());

    CliRun restore = main(nix, "nar", "restore", tmp.resolve("out").toString());
    assertEquals(0, restore.exitCode(), restore.stderr());
    assertArrayEquals(nix, NarCommandTest.nixDump(tmp.resolve("out")));
  }

  @Test
  void helpIsTheSameOnBothPathsAndListsEverySubcommand() {
    String help = main(null, "nar", "--help").out();
    for (String sub : List.of("dump", "restore", "ls", "hash")) {
      assertTrue(help.contains("\n  " + sub + " "), help);
    }
    assertEquals(help, main(null, "nar").out());
    assertEquals(help, CliRun.run(null, "nar", "--help").out());
    assertEquals(help, CliRun.run(null, "help", "nar").out());
    String top = CliRun.run(null, "--help").out();
    assertTrue(top.contains("  nar ") && top.contains(NarCommand.DESCRIPTION.get(0)), top);

    String dump = main(null, "nar", "dump", "--help").out();
    assertTrue(dump.startsWith("Usage: styx nar dump [-hV] PATH\n"), dump);
    assertTrue(dump.contains("nix-store --dump") && dump.contains("PATH"), dump);
    String hash = main(null, "nar", "hash", "-h").out();
    assertTrue(hash.contains("[--size]") && hash.contains("--size  "), hash);
  }

  /**
   * Every command's {@code --help} renders cleanly: picocli formats descriptions with
   * String.format, and a bare '%' in one makes it print a warning to stderr three times.
   */
  @Test
  void everyCommandsHelpRendersWithoutWarnings() {
    ArrayDeque<CommandLine> todo = new ArrayDeque<>();
    todo.add(Styx.commandLine());
    int seen = 0;
    while (!todo.isEmpty()) {
      CommandLine c = todo.poll();
      todo.addAll(c.getSubcommands().values());
      List<String> path = new ArrayList<>();
      for (CommandLine p = c; p.getParent() != null; p = p.getParent()) {
        path.add(0, p.getCommandName());
      }
      path.add("--help");
      CliRun r = CliRun.run(null, path.toArray(String[]::new));
      assertEquals(0, r.exitCode(), path + ": " + r.stderr());
      assertEquals("", r.stderr(), path.toString());
      assertTrue(r.out().contains("Usage: styx"), path + ": " + r.out());
      seen++;
    }
    assertTrue(seen >= 10, "walked only " + seen + " commands");
  }

  @Test
  void usageErrorsAreOneLineWithExitCode2AndFailuresExitCode1() {
    CliRun unknown = main(null, "nar", "frobnicate");
    assertEquals(2, unknown.exitCode());
    assertEquals(
        "styx nar: unknown command 'frobnicate' (commands: dump, restore, ls, hash);"
            + " see 'styx nar --help'\n",
        unknown.stderr());
    CliRun missing = main(null, "nar", "dump");
    assertEquals(2, missing.exitCode());
    assertEquals("styx nar dump: missing PATH; see 'styx nar dump --help'\n", missing.stderr());
    CliRun badFlag = main(null, "nar", "dump", "--size", "/");
    assertEquals(2, badFlag.exitCode());
    assertTrue(badFlag.stderr().contains("unknown option '--size'"), badFlag.stderr());
    CliRun extra = main(null, "nar", "hash", "/a", "/b");
    assertEquals(2, extra.exitCode());
    assertTrue(extra.stderr().contains("unexpected argument '/b'"), extra.stderr());
    assertEquals(0, missing.stdout().length);

    CliRun absent = main(null, "nar", "dump", "/does/not/exist");
    assertEquals(1, absent.exitCode());
    assertEquals("styx nar dump: /does/not/exist: no such file or directory\n", absent.stderr());
    assertEquals(absent.stderr(), CliRun.run(null, "nar", "dump", "/does/not/exist").stderr());
    CliRun notNar = main(new byte[] {1, 2, 3}, "nar", "ls", "-");
    assertEquals(1, notNar.exitCode());
    assertEquals(1, notNar.stderr().strip().lines().count(), notNar.stderr());
  }

  @Test
  void startupTrainingRunsEveryNarCommandCleanly() throws Exception {
    CliStdout.init();
    PrintStream oldOut = System.out;
    CountingStream counted = new CountingStream();
    try {
      System.setOut(new PrintStream(counted, false));
      StartupTraining.run("nar");
    } finally {
      System.setOut(oldOut);
    }
    // Three dumps of this JDK went to stdout, then hashes, listings and help.
    long jdkNar = dev.styx.nar.NarDump.hash(Path.of(System.getProperty("java.home"))).narSize();
    assertTrue(counted.n > 3 * jdkNar, counted.n + " bytes");
    assertThrows(IllegalArgumentException.class, () -> StartupTraining.run("everything"));
  }

  /** Counts and drops bytes. */
  private static final class CountingStream extends java.io.OutputStream {
    long n;

    @Override
    public void write(int b) {
      n++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      n += len;
    }
  }

  @Test
  void versionNeedsNoPicocli() {
    CliRun v = main(null, "--version");
    assertEquals(0, v.exitCode());
    assertTrue(v.out().startsWith("styx "), v.out());
    assertTrue(v.out().contains("JVM: " + System.getProperty("java.version")), v.out());
    assertEquals(v.out(), CliRun.run(null, "--version").out());
    assertEquals(v.out(), main(null, "nar", "-V").out());
  }
}
