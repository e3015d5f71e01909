package dev.styx.cli;

import dev.styx.nar.NarDump;
import dev.styx.nar.NarListing;
import dev.styx.nar.NarRestore;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code styx nar ...}: Nix archives, byte-exact with {@code nix-store --dump/--restore}.
 *
 * <p>Parsed by hand, not by picocli: these commands are scripted like {@code nix-store --dump} and
 * picocli's annotation model (reflection, proxies, ~1,500 classes) costs more JVM start-up than a
 * whole JDK dump takes (issue 2 budget: the CLI within 1.5x of nix-store). {@link StyxMain#main}
 * calls {@link #run} before touching picocli, and nothing here names a picocli type (so the AOT
 * cache of this path holds none). {@link Styx} registers the group in the picocli tree as a
 * pass-through to {@link #run}, so {@code styx --help}, {@code styx help nar} and in-process
 * callers see it too: both paths run the same parser.
 */
final class NarCommand {
  static final String NAME = "nar";

  static final List<String> DESCRIPTION =
      List.of(
          "Work with Nix archives (NAR), the canonical serialization of a store path.",
          "Output is byte-for-byte what nix-store --dump produces.");

  /** A flag a subcommand accepts (no value). */
  private record Flag(String name, String help) {}

  /** One subcommand: its single positional parameter, flags and description. */
  private record Sub(
      String name, String param, String paramHelp, List<Flag> flags, List<String> description) {}

  private static final List<Sub> SUBS =
      List.of(
          new Sub(
              "dump",
              "PATH",
              "File system path to serialize.",
              List.of(),
              List.of(
                  "Write the NAR of PATH (a directory, file or symlink) to stdout, like nix-store"
                      + " --dump:",
                  "entries in byte order, executable iff the owner x bit is set, times and owners"
                      + " ignored.")),
          new Sub(
              "restore",
              "DIR",
              "Path to create.",
              List.of(),
              List.of(
                  "Read a NAR from stdin and unpack it to DIR, which must not exist (like nix-store",
                  "--restore). The NAR is validated strictly; on any error nothing is left at"
                      + " DIR.")),
          new Sub(
              "ls",
              "FILE",
              "NAR file, or '-' for stdin.",
              List.of(
                  new Flag("--offsets", "Append each regular file's content offset in the NAR.")),
              List.of(
                  "List the contents of the NAR file FILE ('-' for stdin), recursively, in the"
                      + " format of",
                  "'nix nar ls -lR FILE /': mode, size, ./path and symlink targets.")),
          new Sub(
              "hash",
              "PATH",
              "File system path to hash.",
              List.of(new Flag("--size", "Also print the NAR size in bytes.")),
              List.of(
                  "Print sha256:<nix32> of PATH's NAR: the narinfo NarHash form, equal to",
                  "'nix-hash --type sha256 --base32 PATH' with a sha256: prefix.")));

  private static final List<Flag> STANDARD =
      List.of(
          new Flag("-h, --help", "Show this help message and exit."),
          new Flag("-V, --version", "Print version information and exit."));

  private NarCommand() {}

  /**
   * Runs {@code styx nar ARGS} ({@code args} without the leading "nar") with System.in/out/err;
   * returns the exit code: 0 ok, 1 the command failed, 2 bad usage (as picocli).
   */
  static int run(String[] args) {
    if (args.length == 0) {
      System.out.print(usage());
      System.out.flush();
      return 0;
    }
    String first = args[0];
    switch (first) {
      case "-h", "--help" -> {
        System.out.print(usage());
        System.out.flush();
        return 0;
      }
      case "-V", "--version" -> {
        return version();
      }
      default -> {}
    }
    for (Sub s : SUBS) {
      if (s.name.equals(first)) {
        return run(s, args);
      }
    }
    List<String> names = new ArrayList<>();
    SUBS.forEach(s -> names.add(s.name));
    return usageError(
        NAME,
        (first.startsWith("-") ? "unknown option '" : "unknown command '")
            + first
            + "' (commands: "
            + String.join(", ", names)
            + ")",
        "styx nar --help");
  }

  private static int run(Sub sub, String[] args) {
    String command = NAME + " " + sub.name; // as errors name it: "styx nar dump: ..."
    String param = null;
    List<String> flags = new ArrayList<>();
    boolean options = true;
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (options && a.equals("--")) {
        options = false;
      } else if (options && (a.equals("-h") || a.equals("--help"))) {
        System.out.print(usage(sub));
        System.out.flush();
        return 0;
      } else if (options && (a.equals("-V") || a.equals("--version"))) {
        return version();
      } else if (options && a.startsWith("-") && !a.equals("-")) {
        if (!hasFlag(sub, a)) {
          return usageError(command, "unknown option '" + a + "'", help(sub));
        }
        flags.add(a);
      } else if (param == null) {
        param = a;
      } else {
        return usageError(command, "unexpected argument '" + a + "'", help(sub));
      }
    }
    if (param == null) {
      return usageError(command, "missing " + sub.param, help(sub));
    }
    try {
      switch (sub.name) {
        case "dump" -> dump(Path.of(param));
        case "restore" -> restore(Path.of(param));
        case "ls" -> ls(param, flags.contains("--offsets"));
        case "hash" -> hash(Path.of(param), flags.contains("--size"));
        default -> throw new IllegalStateException("no action for " + sub.name);
      }
      return 0;
    } catch (Exception e) {
      return CliErrors.report(command, e, System.err);
    }
  }

  private static boolean hasFlag(Sub sub, String a) {
    for (Flag f : sub.flags) {
      if (f.name.equals(a)) {
        return true;
      }
    }
    return false;
  }

  private static String help(Sub sub) {
    return "styx nar " + sub.name + " --help";
  }

  private static int usageError(String command, String message, String help) {
    System.err.println("styx " + command + ": " + message + "; see '" + help + "'");
    System.err.flush();
    return 2;
  }

  private static int version() {
    for (String line : StyxMain.version()) {
      System.out.println(line);
    }
    System.out.flush();
    return 0;
  }

  static Path existing(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(p + ": no such file or directory");
    }
    return p;
  }

  private static void dump(Path path) throws IOException {
    OutputStream out = CliStdout.binary();
    NarDump.dump(existing(path), out);
    out.flush();
    if (out instanceof PrintStream ps && ps.checkError()) {
      throw new IOException("error writing the NAR to stdout");
    }
  }

  private static void restore(Path dir) throws IOException {
    NarRestore.restore(new BufferedInputStream(System.in, 256 * 1024), dir);
  }

  private static void ls(String file, boolean offsets) throws IOException {
    NarListing l;
    if (file.equals("-")) {
      l = NarListing.read(new BufferedInputStream(System.in, 256 * 1024));
    } else {
      try (InputStream in = Files.newInputStream(existing(Path.of(file)))) {
        l = NarListing.read(in);
      }
    }
    StringBuilder sb = new StringBuilder();
    var lines = l.format();
    int i = 0;
    for (NarListing.Entry e : l.entries()) {
      if (e.path().isRoot() && e.type() == NarListing.Type.DIRECTORY) {
        continue;
      }
      sb.append(lines.get(i++));
      if (offsets && e.type() == NarListing.Type.REGULAR) {
        sb.append("  @").append(e.contentsOffset());
      }
      sb.append('\n');
    }
    System.out.print(sb);
    System.out.flush();
  }

  private static void hash(Path path, boolean size) throws IOException {
    var d = NarDump.hash(existing(path));
    System.out.println(size ? d.narHash() + " " + d.narSize() : d.narHash().toString());
    System.out.flush();
  }

  /** The group's help, laid out like picocli's. */
  static String usage() {
    StringBuilder sb = new StringBuilder("Usage: styx nar [-hV] [COMMAND]\n");
    DESCRIPTION.forEach(l -> sb.append(l).append('\n'));
    table(sb, STANDARD);
    sb.append("Commands:\n");
    List<Flag> commands = new ArrayList<>();
    SUBS.forEach(s -> commands.add(new Flag(s.name, s.description.get(0))));
    table(sb, commands);
    return sb.toString();
  }

  private static String usage(Sub sub) {
    StringBuilder sb = new StringBuilder("Usage: styx nar ").append(sub.name).append(" [-hV]");
    sub.flags.forEach(f -> sb.append(" [").append(f.name).append(']'));
    sb.append(' ').append(sub.param).append('\n');
    sub.description.forEach(l -> sb.append(l).append('\n'));
    List<Flag> rows = new ArrayList<>();
    rows.add(new Flag("    " + sub.param, sub.paramHelp));
    // Long-only flags line up under the long names of "-h, --help", as picocli lays them out.
    sub.flags.forEach(f -> rows.add(new Flag("    " + f.name, f.help)));
    rows.addAll(STANDARD);
    table(sb, rows);
    return sb.toString();
  }

  private static void table(StringBuilder sb, List<Flag> rows) {
    int w = 0;
    for (Flag r : rows) {
      w = Math.max(w, r.name.length());
    }
    for (Flag r : rows) {
      sb.append("  ").append(r.name).append(" ".repeat(w - r.name.length() + 3));
      sb.append(r.help).append('\n');
    }
  }
}
