package dev.styx.kernel.fanotify;

import dev.styx.testing.Tiers;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A real EROFS image over one chunk blob, made by erofs-utils ({@code mkfs.erofs --chunksize=65536
 * --blobdev=BLOB}), plus an all-holes copy of the blob to serve as the lazily filled slab.
 */
final class ErofsFixture {
  final Path src;
  final Path image;
  final Path blob;
  final Path slab;
  final Map<String, byte[]> files = new LinkedHashMap<>();

  private ErofsFixture(Path dir) {
    src = dir.resolve("src");
    image = dir.resolve("meta.erofs");
    blob = dir.resolve("blob");
    slab = dir.resolve("slab-0");
  }

  /** Random files of assorted sizes (one duplicated), a tiny inline file and /usr/bin/true. */
  static ErofsFixture build(Path dir) throws IOException, InterruptedException {
    Tiers.requireCommand("mkfs.erofs");
    ErofsFixture f = new ErofsFixture(dir);
    Random r = new Random(42);
    f.put("big.bin", randomBytes(r, 1_048_576));
    f.put("sub/mid.bin", randomBytes(r, 300_000));
    f.put("sub/odd.bin", randomBytes(r, 65_537));
    f.put("sub/copy-of-mid.bin", f.files.get("sub/mid.bin"));
    f.put("tiny.txt", "hello styx\n".getBytes());
    for (int i = 0; i < 20; i++) {
      f.put("many/f" + i, randomBytes(r, 5_000 + 3_000 * i));
    }
    Path trueBin = Path.of("/usr/bin/true");
    Files.createDirectories(f.src.resolve("bin"));
    Files.copy(trueBin, f.src.resolve("bin/true"), StandardCopyOption.COPY_ATTRIBUTES);
    f.files.put("bin/true", Files.readAllBytes(trueBin));
    Tiers.run(
        dir,
        "mkfs.erofs",
        "--chunksize=65536",
        "--blobdev=" + f.blob,
        f.image.toString(),
        f.src.toString());
    f.resetSlab();
    return f;
  }

  /** Makes the slab an all-holes file of the blob's size (nothing present). */
  void resetSlab() throws IOException {
    Files.deleteIfExists(slab);
    try (RandomAccessFile raf = new RandomAccessFile(slab.toFile(), "rw")) {
      raf.setLength(Files.size(blob));
    }
  }

  private void put(String name, byte[] data) throws IOException {
    Path p = src.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, data);
    files.put(name, data);
  }

  private static byte[] randomBytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  /** Where {@code data}'s first 4 KiB sit in the blob (random data: unique), or -1. */
  long locate(byte[] data) throws IOException {
    byte[] blobBytes = Files.readAllBytes(blob);
    int n = Math.min(4096, data.length);
    outer:
    for (int i = 0; i + n <= blobBytes.length; i += 512) {
      for (int j = 0; j < n; j++) {
        if (blobBytes[i + j] != data[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
