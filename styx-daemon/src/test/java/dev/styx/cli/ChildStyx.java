package dev.styx.cli;

import java.util.ArrayList;
import java.util.List;

/** The command line that runs the styx CLI in a child JVM on this test run's class path. */
public final class ChildStyx {
  private ChildStyx() {}

  /**
   * {@code java ... dev.styx.cli.Styx ARGS} with the flags the product's launcher passes (native
   * access for jnr-ffi, the opens lmdbjava needs).
   */
  public static List<String> command(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(
        List.of(
            "--enable-native-access=ALL-UNNAMED",
            "--add-opens",
            "java.base/java.nio=ALL-UNNAMED",
            "--add-opens",
            "java.base/sun.nio.ch=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            "dev.styx.cli.Styx"));
    cmd.addAll(List.of(args));
    return cmd;
  }
}
