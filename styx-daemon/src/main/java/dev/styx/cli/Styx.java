package dev.styx.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code styx} command line: one binary, subcommand groups per domain. */
@Command(
    name = "styx",
    mixinStandardHelpOptions = true,
    versionProvider = StyxVersion.class,
    description = {
      "Styx: lazy, chunk-shared, diff-fetched Nix substitution over EROFS.",
      "",
      "Server side: a manifester turns a Nix binary cache into signed manifests and chunks.",
      "Client side: a daemon mounts store paths as EROFS images and fetches chunks on demand.",
    },
    subcommands = {
      CommandLine.HelpCommand.class,
      DaemonCommand.class,
      InitCommand.class,
      MountCommand.class,
      UmountCommand.class,
      StatusCommand.class,
      NarCommand.class,
      ErofsCommand.class,
      CacheCommand.class,
      FdHolderCommand.class,
      ManifesterCommand.class,
      ManifestCommand.class
    })
public final class Styx implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the command line with every subcommand group registered. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Styx());
    cl.setExecutionExceptionHandler(new CliErrors());
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }
}
