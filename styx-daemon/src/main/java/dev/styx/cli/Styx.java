package dev.styx.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

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
    subcommands = {CommandLine.HelpCommand.class})
public final class Styx implements Runnable {

  /**
   * Every command group, in help order. Register new groups here. Building picocli's model costs
   * ~20-30 ms per group on a cold JVM, so {@link #commandLine(String...)} builds only the group a
   * command line names (all of them for help and unknown names).
   */
  static final List<Class<?>> GROUPS =
      List.of(
          DaemonCommand.class,
          InitCommand.class,
          MountCommand.class,
          UmountCommand.class,
          PrefetchCommand.class,
          StatusCommand.class,
          NarCommand.class,
          ErofsCommand.class,
          CacheCommand.class,
          FdHolderCommand.class,
          ManifesterCommand.class,
          ManifestCommand.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Builds the command line with every subcommand group registered. */
  public static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * Builds the command line for {@code args}: only the group {@code args[0]} names when it names
   * one (fast start for scripted calls such as {@code styx nar dump}), else every group.
   */
  public static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new Styx());
    String first = args.length > 0 ? args[0] : "";
    Class<?> only = null;
    for (Class<?> group : GROUPS) {
      if (name(group).equals(first)) {
        only = group;
      }
    }
    for (Class<?> group : GROUPS) {
      if (only == null || group == only) {
        cl.addSubcommand(group == NarCommand.class ? narCommandLine() : new CommandLine(group));
      }
    }
    // Descriptions are written as lines of up to ~100 columns; at picocli's default 80 they
    // would be re-wrapped into ragged text. Setters apply to the subcommands added above.
    cl.setUsageHelpWidth(110);
    cl.setExecutionExceptionHandler(new CliErrors());
    return cl;
  }

  /**
   * The hand-parsed {@code nar} group as a picocli command that hands its raw arguments to {@link
   * NarCommand#run}: listed in {@code styx --help} with its first description line, and {@code styx
   * help nar} prints {@link NarCommand#usage()}.
   */
  private static CommandLine narCommandLine() {
    PositionalParamSpec rest =
        PositionalParamSpec.builder()
            .paramLabel("ARGS")
            .arity("0..*")
            .type(String[].class)
            .hidden(true)
            .build();
    Callable<Integer> call =
        () -> {
          String[] a = rest.getValue();
          return NarCommand.run(a == null ? new String[0] : a);
        };
    CommandSpec spec =
        CommandSpec.wrapWithoutInspection(call).name(NarCommand.NAME).addPositional(rest);
    spec.usageMessage()
        .description(NarCommand.DESCRIPTION.toArray(new String[0]))
        .sectionKeys(List.of("styxNar"))
        .sectionMap(Map.of("styxNar", help -> NarCommand.usage()));
    CommandLine cl = new CommandLine(spec);
    // Everything after "nar" is NarCommand's, options and "--" included.
    cl.setUnmatchedOptionsArePositionalParams(true);
    cl.setStopAtPositional(true);
    cl.setEndOfOptionsDelimiter("\0");
    return cl;
  }

  private static String name(Class<?> group) {
    // NarCommand is parsed by hand (start-up time), so it has no @Command annotation.
    return group == NarCommand.class ? NarCommand.NAME : group.getAnnotation(Command.class).name();
  }

  /** Runs a command line (also the jar's entry point, {@link StyxMain}, whose logic this is). */
  public static void main(String[] args) throws java.io.IOException {
    StyxMain.main(args);
  }
}
