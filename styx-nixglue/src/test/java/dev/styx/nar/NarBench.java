package dev.styx.nar;

import dev.styx.nix.NixHash;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Benchmark for scripts/bench-nar: (1) NAR parse + SHA-256 of a >= 500 MB NAR vs the JDK's plain
 * SHA-256 over the same bytes; (2) in-process NAR dump of a directory vs an external command
 * (nix-store --dump), both to /dev/null. Prints both sides of each ratio from one run.
 */
public final class NarBench {
  private NarBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    Path dumpDir = Path.of(args[1]);
    long narTarget = args.length > 2 ? Long.parseLong(args[2]) << 20 : 512L << 20;
    int rounds = 5;

    Path tree = work.resolve("tree");
    Path nar = work.resolve("big.nar");
    System.err.printf("bench-nar: generating a %d MiB tree in %s%n", narTarget >> 20, tree);
    generate(tree, narTarget);
    try (OutputStream o = Files.newOutputStream(nar)) {
      NarDump.dump(tree, o);
    }
    long size = Files.size(nar);

    // Interleave the two sides so page cache and CPU frequency affect both alike.
    List<Double> plain = new ArrayList<>();
    List<Double> parse = new ArrayList<>();
    String h1 = null;
    String h2 = null;
    for (int i = 0; i < rounds + 1; i++) {
      long t0 = System.nanoTime();
      h1 = plainSha(nar);
      long t1 = System.nanoTime();
      h2 = parseSha(nar);
      long t2 = System.nanoTime();
      if (i > 0) { // round 0 warms up the JIT and the page cache
        plain.add((t1 - t0) / 1e9);
        parse.add((t2 - t1) / 1e9);
      }
    }
    if (!h1.equals(h2)) {
      throw new IllegalStateException("hash mismatch: " + h1 + " vs " + h2);
    }
    double mb = size / 1e6;
    double tp = best(plain);
    double tn = best(parse);
    System.out.printf("NAR size                          : %.1f MB%n", mb);
    System.out.printf(
        "JDK SHA-256 only (best of %d)     : %.3f s  %.0f MB/s%n", rounds, tp, mb / tp);
    System.out.printf("NarReader parse + SHA-256         : %.3f s  %.0f MB/s%n", tn, mb / tn);
    System.out.printf("ratio parse+hash / plain (>= 0.8) : %.2fx%n", (mb / tn) / (mb / tp));

    // Dump: in-process (warm) vs nix-store --dump, both to /dev/null.
    List<Double> ours = new ArrayList<>();
    List<Double> nix = new ArrayList<>();
    long dumpSize = 0;
    for (int i = 0; i < rounds + 1; i++) {
      long t0 = System.nanoTime();
      try (OutputStream o = new java.io.FileOutputStream("/dev/null")) {
        dumpSize = NarDump.dump(dumpDir, o);
      }
      long t1 = System.nanoTime();
      Process p =
          new ProcessBuilder("nix-store", "--dump", dumpDir.toString())
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (p.waitFor() != 0) {
        throw new IOException("nix-store --dump failed");
      }
      long t2 = System.nanoTime();
      if (i > 0) {
        ours.add((t1 - t0) / 1e9);
        nix.add((t2 - t1) / 1e9);
      }
    }
    // Through a pipe drained by cat, so the bytes really move: nix-store --dump | cat vs NarDump
    // writing into cat's stdin (kernel copy path, and the generic heap-copy path).
    List<Double> nixPipe = new ArrayList<>();
    List<Double> oursPipe = new ArrayList<>();
    List<Double> oursPipeHeap = new ArrayList<>();
    for (int i = 0; i < rounds + 1; i++) {
      long t0 = System.nanoTime();
      Process p =
          new ProcessBuilder(
                  "sh", "-c", "nix-store --dump \"$0\" | cat > /dev/null", dumpDir.toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (p.waitFor() != 0) {
        throw new IOException("nix-store --dump | cat failed");
      }
      long t1 = System.nanoTime();
      dumpIntoCat(dumpDir, false);
      long t2 = System.nanoTime();
      dumpIntoCat(dumpDir, true);
      long t3 = System.nanoTime();
      if (i > 0) {
        nixPipe.add((t1 - t0) / 1e9);
        oursPipe.add((t2 - t1) / 1e9);
        oursPipeHeap.add((t3 - t2) / 1e9);
      }
    }
    System.out.printf("dump of %s (%.1f MB NAR), best of %d%n", dumpDir, dumpSize / 1e6, rounds);
    System.out.printf("  nix-store --dump > /dev/null           : %.3f s%n", best(nix));
    System.out.printf(
        "  NarDump in-process > /dev/null         : %.3f s  ratio %.2fx (<= 1.5)%n",
        best(ours), best(ours) / best(nix));
    System.out.printf("  nix-store --dump | cat                 : %.3f s%n", best(nixPipe));
    System.out.printf(
        "  NarDump in-process | cat               : %.3f s  ratio %.2fx (<= 1.5)%n",
        best(oursPipe), best(oursPipe) / best(nixPipe));
    System.out.printf(
        "  same, generic stream path (no sendfile): %.3f s  ratio %.2fx%n",
        best(oursPipeHeap), best(oursPipeHeap) / best(nixPipe));
  }

  /** Dumps into the stdin pipe of a fresh {@code cat > /dev/null}, opened via /proc. */
  private static void dumpIntoCat(Path dir, boolean genericPath) throws Exception {
    Process cat =
        new ProcessBuilder("sh", "-c", "exec cat > /dev/null")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try (OutputStream pipe = new java.io.FileOutputStream("/proc/" + cat.pid() + "/fd/0")) {
      cat.getOutputStream().close(); // our fd from /proc keeps the pipe open
      OutputStream o =
          genericPath
              ? new java.io.FilterOutputStream(pipe) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                  out.write(b, off, len);
                }
              }
              : pipe;
      NarDump.dump(dir, o);
      o.flush();
    }
    if (cat.waitFor() != 0) {
      throw new IOException("cat failed");
    }
  }

  private static double best(List<Double> l) {
    return l.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
  }

  private static String plainSha(Path nar) throws IOException {
    MessageDigest md = NixHash.Algorithm.SHA256.newDigest();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(nar)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String parseSha(Path nar) throws IOException {
    MessageDigest md = NixHash.Algorithm.SHA256.newDigest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(nar), md)) {
      NarReader.read(
          in,
          new NarVisitor() {
            @Override
            public void directory(NarPath p) {}

            @Override
            public void regularFile(NarPath p, boolean x, long size, InputStream c) {}

            @Override
            public void symlink(NarPath p, String t) {}

            @Override
            public void endDirectory(NarPath p) {}
          });
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** A few large random files plus some small ones and nesting, about {@code bytes} in total. */
  private static void generate(Path root, long bytes) throws IOException {
    SplittableRandom rnd = new SplittableRandom(7);
    Files.createDirectories(root.resolve("share/doc"));
    for (int i = 0; i < 200; i++) {
      byte[] b = new byte[rnd.nextInt(1, 20_000)];
      fill(rnd, b);
      Files.write(root.resolve("share/doc/f" + i), b);
    }
    byte[] block = new byte[1 << 20];
    int files = 4;
    long each = bytes / files;
    for (int f = 0; f < files; f++) {
      Path p = root.resolve("big" + f + ".bin");
      try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(p), 1 << 20)) {
        for (long w = 0; w < each; w += block.length) {
          fill(rnd, block);
          o.write(block, 0, (int) Math.min(block.length, each - w));
        }
      }
    }
  }

  private static void fill(SplittableRandom rnd, byte[] b) {
    for (int i = 0; i + 8 <= b.length; i += 8) {
      long v = rnd.nextLong();
      for (int k = 0; k < 8; k++) {
        b[i + k] = (byte) (v >>> (8 * k));
      }
    }
  }
}
