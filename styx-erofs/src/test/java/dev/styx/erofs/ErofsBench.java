package dev.styx.erofs;

import dev.styx.erofs.slab.DirectoryImporter;
import dev.styx.erofs.slab.SlabFileWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Benchmark for issue 3's budgets, both sides from one run: (1) writing the image of a 10,000-file
 * tree whose chunks are already placed, warm (median; budget 50 ms); (2) our image size against the
 * metadata image mkfs.erofs --chunksize=65536 --blobdev=BLOB makes of the same tree (budget 1.2x).
 * Usage: scripts/bench-erofs [WORKDIR]
 */
public final class ErofsBench {
  private ErofsBench() {}

  static void generate(Path root, int files, long seed) throws IOException {
    Random r = new Random(seed);
    Files.createDirectories(root);
    byte[] buf = new byte[4 << 20];
    for (int i = 0; i < files; i++) {
      // 100 packages of 100 files in a few nested directories, like a store path's lib/share.
      Path dir = root.resolve("pkg" + (i / 100)).resolve(i % 3 == 0 ? "lib" : "share/doc");
      Files.createDirectories(dir);
      long size =
          i % 1000 == 999
              ? (1 << 20) + r.nextInt(3 << 20)
              : (long) Math.pow(2, r.nextDouble() * 16);
      if (i % 10 == 0) {
        size = r.nextInt(200); // small files that stay inline
      }
      r.nextBytes(buf);
      Path f = dir.resolve(String.format("file-%05d.%s", i, i % 2 == 0 ? "so" : "txt"));
      Files.write(f, Arrays.copyOf(buf, (int) size));
      if (i % 17 == 0) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r-xr-xr-x"));
      }
      if (i % 50 == 0) {
        Files.createSymbolicLink(dir.resolve("link-" + i), f.getFileName());
      }
    }
  }

  static ErofsImage importTree(Path work, Path src, int inlineMax) throws IOException {
    Path slab = work.resolve("slab");
    Files.deleteIfExists(slab);
    Files.deleteIfExists(SlabFileWriter.indexPath(slab));
    try (SlabFileWriter w = SlabFileWriter.open(slab)) {
      DirectoryImporter imp =
          new DirectoryImporter(
              w, 1, s -> s <= 16L << 20 ? 16 : s <= 64L << 20 ? 18 : 20, inlineMax);
      return new ErofsImage(imp.importTree(src), List.of(w.device()));
    }
  }

  static long countFiles(ErofsNode.Directory d) {
    long n = 0;
    for (ErofsNode.Entry e : d.entries()) {
      n +=
          switch (e.node()) {
            case ErofsNode.Directory sub -> countFiles(sub);
            case ErofsNode.Symlink s -> 0;
            default -> 1;
          };
    }
    return n;
  }

  static long run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + new String(out));
    }
    return 0;
  }

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : "/tmp/styx-bench-erofs");
    Path src = work.resolve("tree");
    if (!Files.exists(work.resolve("tree.done"))) {
      System.err.println("generating a 10,000-file tree in " + src + " ...");
      generate(src, 10_000, 1);
      Files.writeString(work.resolve("tree.done"), "");
    }
    ErofsImage image = importTree(work, src, 224);
    long files = countFiles(image.root());
    // The same tree with every file chunked (no inline data), as mkfs.erofs --blobdev stores it.
    int noInlineSize = ErofsWriter.write(importTree(work, src, 0)).length;
    // Warm-up, then measured runs of the pure writer (chunks already placed).
    byte[] img = null;
    for (int i = 0; i < 200; i++) {
      img = ErofsWriter.write(image);
    }
    int runs = 101;
    long[] ns = new long[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      img = ErofsWriter.write(image);
      ns[i] = System.nanoTime() - t0;
    }
    Arrays.sort(ns);
    Path ours = work.resolve("ours.erofs");
    Files.write(ours, img);

    Path mkfsImg = work.resolve("mkfs.erofs");
    Path blob = work.resolve("mkfs.blob");
    Files.deleteIfExists(mkfsImg);
    Files.deleteIfExists(blob);
    run(
        "mkfs.erofs",
        "--quiet",
        "--chunksize=65536",
        "--blobdev=" + blob,
        mkfsImg.toString(),
        src.toString());
    long mkfsDefault = Files.size(mkfsImg);
    Files.delete(mkfsImg);
    Files.delete(blob);
    run(
        "mkfs.erofs",
        "--quiet",
        "--chunksize=65536",
        "--blobdev=" + blob,
        "-T1",
        "--all-root",
        "--ignore-mtime",
        mkfsImg.toString(),
        src.toString());
    long mkfsCompact = Files.size(mkfsImg);

    System.out.printf("tree: %d regular files (%s)%n", files, src);
    System.out.printf(
        "write image (chunks placed), warm, %d runs: median %.2f ms, min %.2f ms, p90 %.2f ms"
            + " (budget 50 ms)%n",
        runs, ns[runs / 2] / 1e6, ns[0] / 1e6, ns[runs * 9 / 10] / 1e6);
    System.out.printf("image size: styx %d bytes%n", img.length);
    System.out.printf(
        "image size: mkfs.erofs --chunksize=65536 --blobdev %d bytes -> ratio %.3f (budget 1.2)%n",
        mkfsDefault, (double) img.length / mkfsDefault);
    System.out.printf(
        "image size: mkfs.erofs ... -T1 --all-root --ignore-mtime %d bytes -> ratio %.3f%n",
        mkfsCompact, (double) img.length / mkfsCompact);
    System.out.printf(
        "image size: styx with no inline files (all chunked, like mkfs) %d bytes -> ratio %.3f"
            + " / %.3f%n",
        noInlineSize, (double) noInlineSize / mkfsDefault, (double) noInlineSize / mkfsCompact);
  }
}
