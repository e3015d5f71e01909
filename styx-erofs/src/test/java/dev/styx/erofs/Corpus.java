package dev.styx.erofs;

import dev.styx.erofs.slab.DirectoryImporter;
import dev.styx.erofs.slab.SlabFileWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;

/** The acceptance corpus of issue 3, generated on disk, and the build step the tests share. */
final class Corpus {
  private Corpus() {}

  /** The architecture's chunk-size policy (ChunkPolicy in styx-chunkstore), restated for tests. */
  static int chunkShift(long size) {
    return size <= 16L << 20 ? 16 : size <= 64L << 20 ? 18 : 20;
  }

  static final int INLINE_MAX = 224;

  /** The sizes the issue lists, around block and chunk-size boundaries. */
  static final long[] SIZES = {
    1, 4095, 4096, 4097, 65535, 65536, 65537, (16L << 20) + 1, (64L << 20) + 1
  };

  /** Writes the whole synthetic corpus under {@code root}. */
  static void generate(Path root, long seed) throws IOException {
    Random rnd = new Random(seed);
    Files.createDirectories(root);
    // A directory with 10,000 entries (multi-block, tail inline or plain).
    Path wide = Files.createDirectories(root.resolve("wide"));
    for (int i = 0; i < 10_000; i++) {
      Path f = wide.resolve(String.format("entry-%05d-%s", i, Integer.toHexString(rnd.nextInt())));
      Files.writeString(f, i % 7 == 0 ? "" : "file " + i + "\n");
    }
    // 255-byte names: ASCII, multi-byte UTF-8, and as a directory.
    Path names = Files.createDirectories(root.resolve("names"));
    Files.writeString(names.resolve("n".repeat(255)), "long ascii name\n");
    Files.writeString(names.resolve("é".repeat(127) + "x"), "long utf-8 name\n");
    Files.writeString(
        Files.createDirectories(names.resolve("d".repeat(255))).resolve("f"), "inside\n");
    // Byte-order edge cases around "." and "..", case, multi-byte and supplementary characters.
    for (String n :
        List.of("-a", "+b", ".a", "..a", ".-x", "...", "A", "a", "Z_", "é", "日本", "\uFFFD", "😀")) {
      Files.writeString(names.resolve(n), n + "\n");
    }
    // 64 levels of nesting.
    Path deep = root.resolve("deep");
    for (int i = 0; i < 64; i++) {
      deep = deep.resolve("level" + i);
    }
    Files.createDirectories(deep);
    Files.writeString(deep.resolve("bottom.txt"), "64 levels down\n");
    // Empty directories and files.
    Files.createDirectories(root.resolve("empty-dir/also-empty"));
    Files.write(root.resolve("empty-file"), new byte[0]);
    // Files at every size boundary, random bytes (sparse-written for the big ones).
    Path sizes = Files.createDirectories(root.resolve("sizes"));
    for (long s : SIZES) {
      writeFile(sizes.resolve("size-" + s), s, rnd);
    }
    // Inline-sized files at the cutoff.
    for (int s : new int[] {223, 224, 225}) {
      writeFile(sizes.resolve("small-" + s), s, rnd);
    }
    // Symlinks with 1- and 4095-byte targets, relative and absolute, dangling and not.
    Path links = Files.createDirectories(root.resolve("links"));
    Files.createSymbolicLink(links.resolve("one"), Path.of("x"));
    StringBuilder t = new StringBuilder();
    while (t.length() < 4095) {
      if (!t.isEmpty()) {
        t.append('/');
      }
      t.append("c".repeat(Math.min(200, 4095 - t.length())));
    }
    Files.createSymbolicLink(links.resolve("long"), Path.of(t.toString()));
    Files.createSymbolicLink(links.resolve("to-size"), Path.of("../sizes/size-4097"));
    Files.createSymbolicLink(links.resolve("abs"), Path.of("/nix/store/abc-foo/bin/sh"));
    Files.createSymbolicLink(links.resolve("mid"), Path.of("m".repeat(4064)));
    // Executables, inline and chunked.
    Path bin = Files.createDirectories(root.resolve("bin"));
    Files.writeString(bin.resolve("script"), "#!/bin/sh\necho styx\n");
    writeFile(bin.resolve("binary"), 70_000, rnd);
    for (Path p : List.of(bin.resolve("script"), bin.resolve("binary"))) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /** A file of {@code size} bytes: fully random if small, random islands in zeros if large. */
  static void writeFile(Path p, long size, Random rnd) throws IOException {
    if (size <= 1 << 20) {
      byte[] b = new byte[(int) size];
      rnd.nextBytes(b);
      Files.write(p, b);
      return;
    }
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
      byte[] b = new byte[512];
      for (long at = 0; at < size; at += 1 << 18) {
        rnd.nextBytes(b);
        f.seek(at);
        f.write(b, 0, (int) Math.min(b.length, size - at));
      }
      f.seek(size - 1);
      f.write(0x5A);
    }
  }

  /** A built image: its tree, the image file and the slab. */
  record Built(ErofsImage image, Path imageFile, Path slab, long slabBlocks) {}

  /** Imports {@code src} into {@code slab} and writes {@code imageFile}. */
  static Built build(Path src, Path slab, Path imageFile) throws IOException {
    try (SlabFileWriter w = SlabFileWriter.open(slab)) {
      DirectoryImporter imp = new DirectoryImporter(w, 1, Corpus::chunkShift, INLINE_MAX);
      ErofsImage img = new ErofsImage(imp.importTree(src), List.of(w.device()));
      Files.write(imageFile, ErofsWriter.write(img));
      return new Built(img, imageFile, slab, w.blocks());
    }
  }
}
