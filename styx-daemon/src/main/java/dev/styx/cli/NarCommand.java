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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx nar ...}: Nix archives, byte-exact with {@code nix-store --dump/--restore}. */
@Command(
    name = "nar",
    mixinStandardHelpOptions = true,
    description = {
      "Work with Nix archives (NAR), the canonical serialization of a store path.",
      "Output is byte-for-byte what nix-store --dump produces.",
    },
    subcommands = {
      NarCommand.Dump.class,
      NarCommand.Restore.class,
      NarCommand.Ls.class,
      NarCommand.Hash.class
    })
final class NarCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static Path existing(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(p + ": no such file or directory");
    }
    return p;
  }

  /** {@code styx nar dump PATH}. */
  @Command(
      name = "dump",
      mixinStandardHelpOptions = true,
      description = {
        "Write the NAR of PATH (a directory, file or symlink) to stdout, like nix-store --dump:",
        "entries in byte order, executable iff the owner x bit is set, times and owners ignored.",
      })
  static final class Dump implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "File system path to serialize.")
    Path path;

    @Override
    public Integer call() throws IOException {
      OutputStream out = CliStdout.binary();
      NarDump.dump(existing(path), out);
      out.flush();
      if (out instanceof PrintStream ps && ps.checkError()) {
        throw new IOException("error writing the NAR to stdout");
      }
      return 0;
    }
  }

  /** {@code styx nar restore DIR}. */
  @Command(
      name = "restore",
      mixinStandardHelpOptions = true,
      description = {
        "Read a NAR from stdin and unpack it to DIR, which must not exist (like nix-store",
        "--restore). The NAR is validated strictly; on any error nothing is left at DIR.",
      })
  static final class Restore implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Path to create.")
    Path dir;

    @Override
    public Integer call() throws IOException {
      NarRestore.restore(new BufferedInputStream(System.in, 256 * 1024), dir);
      return 0;
    }
  }

  /** {@code styx nar ls FILE}. */
  @Command(
      name = "ls",
      mixinStandardHelpOptions = true,
      description = {
        "List the contents of the NAR file FILE ('-' for stdin), recursively, in the format of",
        "'nix nar ls -lR FILE /': mode, size, ./path and symlink targets.",
      })
  static final class Ls implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "NAR file, or '-' for stdin.")
    String file;

    @Option(
        names = "--offsets",
        description = "Append each regular file's content offset in the NAR.")
    boolean offsets;

    @Override
    public Integer call() throws IOException {
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
      return 0;
    }
  }

  /** {@code styx nar hash PATH}. */
  @Command(
      name = "hash",
      mixinStandardHelpOptions = true,
      description = {
        "Print sha256:<nix32> of PATH's NAR: the narinfo NarHash form, equal to",
        "'nix-hash --type sha256 --base32 PATH' with a sha256: prefix.",
      })
  static final class Hash implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "File system path to hash.")
    Path path;

    @Option(names = "--size", description = "Also print the NAR size in bytes.")
    boolean size;

    @Override
    public Integer call() throws IOException {
      var d = NarDump.hash(existing(path));
      System.out.println(size ? d.narHash() + " " + d.narSize() : d.narHash().toString());
      System.out.flush();
      return 0;
    }
  }
}
