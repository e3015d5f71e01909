package dev.styx.cli;

import java.io.IOException;
import java.util.Arrays;

/**
 * The jar's entry point. Runs the picocli-free commands ({@code styx nar ...}, {@code --version})
 * itself and hands every other command line to picocli ({@link Styx}). It is a class of its own
 * because the launcher reflects over the main class's methods, which would load picocli for {@link
 * Styx}'s signatures on every start (~10 ms, outside the AOT cache); nothing here names a picocli
 * type.
 */
public final class StyxMain {
  private StyxMain() {}

  /** Runs one command line and exits with its code. */
  public static void main(String[] args) throws IOException {
    String training = System.getProperty(StartupTraining.PROPERTY);
    if (training != null) {
      // scripts/styx records its start-up cache through -jar, the same path commands take.
      StartupTraining.run(training);
      return;
    }
    int rc = run(args);
    // The picocli-free paths start no threads, so a clean return ends the JVM and skips
    // System.exit's shutdown logging lookup (a service scan of the jar); other commands may leave
    // non-daemon threads (event loops) behind and must exit.
    if (rc != 0 || !picocliFree(args)) {
      System.exit(rc);
    }
  }

  /**
   * The {@code nar} group and {@code --version} skip picocli entirely: they are scripted, and
   * building picocli's model costs more JVM start-up than dumping a JDK (see {@link NarCommand}).
   */
  private static boolean picocliFree(String[] args) {
    return args.length > 0
        && (args[0].equals(NarCommand.NAME)
            || (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))));
  }

  /** Runs one command line and returns its exit code. */
  static int run(String... args) {
    if (!picocliFree(args)) {
      return Styx.commandLine(args).execute(args);
    }
    if (args[0].equals(NarCommand.NAME)) {
      return NarCommand.run(Arrays.copyOfRange(args, 1, args.length));
    }
    for (String line : version()) {
      System.out.println(line);
    }
    System.out.flush();
    return 0;
  }

  /** The version lines: build version from the jar manifest, JVM and OS. */
  static String[] version() {
    String v = StyxMain.class.getPackage().getImplementationVersion();
    return new String[] {
      "styx " + (v == null ? "dev" : v),
      "JVM: "
          + System.getProperty("java.version")
          + " ("
          + System.getProperty("java.vendor")
          + " "
          + System.getProperty("java.vm.name")
          + ")",
      "OS: "
          + System.getProperty("os.name")
          + " "
          + System.getProperty("os.version")
          + " "
          + System.getProperty("os.arch")
    };
  }
}
