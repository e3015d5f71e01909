package dev.styx.cli;

import dev.styx.chunk.ChunkPolicy;
import dev.styx.erofs.ErofsDevice;
import dev.styx.erofs.ErofsImage;
import dev.styx.erofs.ErofsNode;
import dev.styx.erofs.ErofsReader;
import dev.styx.erofs.ErofsWriter;
import dev.styx.erofs.slab.DirectoryImporter;
import dev.styx.erofs.slab.SlabFileWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx erofs ...}: build and inspect EROFS images whose file data live in a slab file. */
@Command(
    name = "erofs",
    mixinStandardHelpOptions = true,
    description = {
      "Build and inspect the EROFS images Styx mounts: metadata, directories, symlinks and small"
          + " files live in the image; file data are chunks in a slab file given to the kernel as"
          + " an extra device (mount(2) of IMAGE with -o device=SLAB; /bin/mount would put a loop"
          + " device in front and fail).",
    },
    subcommands = {ErofsCommand.Build.class, ErofsCommand.Ls.class})
final class ErofsCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code styx erofs build --slab SLAB --out IMAGE DIR}. */
  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = {
        "Chunk the files of DIR into SLAB and write an EROFS image of DIR to IMAGE.",
        "Files of at most 224 bytes are stored inline in the image; larger ones are cut into 64"
            + " KiB chunks (files up to 16 MiB), 256 KiB chunks (up to 64 MiB) or 1 MiB chunks,"
            + " each stored once in SLAB (deduplicated by SHA-256, index kept in SLAB.index), so"
            + " building another tree into the same slab adds only the chunks it does not hold.",
        "The image carries Nix store metadata: root-owned, modes 0444/0555 (files), 0555"
            + " (directories), 0777 (symlinks), mtime 1.",
      })
  static final class Build implements Callable<Integer> {
    @Option(
        names = "--slab",
        required = true,
        paramLabel = "SLAB",
        description = "Slab file to append chunks to (created if missing).")
    Path slab;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "IMAGE",
        description = "Image file to write (replaced atomically).")
    Path out;

    @Parameters(paramLabel = "DIR", description = "Directory tree to build the image from.")
    Path dir;

    @Override
    public Integer call() throws IOException {
      if (!Files.isDirectory(dir)) {
        throw new IOException(dir + ": not a directory");
      }
      long t0 = System.nanoTime();
      ErofsImage image;
      long before;
      long after;
      long added;
      long reused;
      DirectoryImporter imp;
      try (SlabFileWriter w = SlabFileWriter.open(slab)) {
        before = w.blocks();
        System.err.println("styx erofs build: importing " + dir + " into " + slab + " ...");
        imp = new DirectoryImporter(w, 1, ChunkPolicy::chunkShift, ChunkPolicy.INLINE_MAX);
        ErofsNode.Directory root = imp.importTree(dir);
        image = new ErofsImage(root, List.of(w.device()));
        after = w.blocks();
        added = w.chunksAdded();
        reused = w.chunksReused();
      }
      byte[] bytes = ErofsWriter.write(image);
      Path abs = out.toAbsolutePath();
      Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
      Files.write(tmp, bytes);
      Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      PrintStream o = System.out;
      o.printf("image   %s: %d bytes (%d blocks)%n", out, bytes.length, bytes.length / 4096);
      o.printf("files   %d regular files, %d bytes of file data%n", imp.files(), imp.bytes());
      o.printf(
          "slab    %s: %d -> %d blocks (+%d bytes); %d chunks added, %d already present%n",
          slab, before, after, (after - before) * 4096, added, reused);
      o.printf("device  %s%n", image.devices().get(0).tag());
      o.printf("took    %d ms%n", ms);
      return 0;
    }
  }

  /** {@code styx erofs ls IMAGE}. */
  @Command(
      name = "ls",
      mixinStandardHelpOptions = true,
      description = {
        "List the tree in IMAGE: mode, size, chunk count x chunk size (or 'inline' for data kept"
            + " in the image) and path; symlinks show their target. The image is fully validated"
            + " while it is read.",
      })
  static final class Ls implements Callable<Integer> {
    @Parameters(paramLabel = "IMAGE", description = "EROFS image file.")
    Path image;

    @Override
    public Integer call() throws IOException {
      ErofsImage img = ErofsReader.read(image);
      PrintStream o = System.out;
      for (int i = 0; i < img.devices().size(); i++) {
        ErofsDevice d = img.devices().get(i);
        o.printf("# device %d: tag %s, %d blocks%n", i + 1, d.tag(), d.blocks());
      }
      StringBuilder sb = new StringBuilder();
      line(sb, "dr-xr-xr-x", 0, "", "/");
      list(sb, img.root(), "");
      o.print(sb);
      o.flush();
      return 0;
    }

    private static void line(StringBuilder sb, String mode, long size, String data, String path) {
      sb.append(mode)
          .append(' ')
          .append(String.format("%12d", size))
          .append(' ')
          .append(String.format("%-16s", data))
          .append(' ')
          .append(path)
          .append('\n');
    }

    private static void list(StringBuilder sb, ErofsNode.Directory dir, String prefix) {
      for (ErofsNode.Entry e : dir.entries()) {
        String path = prefix + "/" + e.name();
        switch (e.node()) {
          case ErofsNode.Directory d -> {
            line(sb, "dr-xr-xr-x", 0, "", path + "/");
            list(sb, d, path);
          }
          case ErofsNode.InlineFile f ->
              line(sb, f.executable() ? "-r-xr-xr-x" : "-r--r--r--", f.size(), "inline", path);
          case ErofsNode.ChunkedFile c ->
              line(
                  sb,
                  c.executable() ? "-r-xr-xr-x" : "-r--r--r--",
                  c.size(),
                  c.chunks().size() + " x " + (1L << c.chunkShift() >> 10) + "K",
                  path);
          case ErofsNode.Symlink s ->
              line(sb, "lrwxrwxrwx", s.target().length, "", path + " -> " + s.targetString());
        }
      }
    }
  }
}
