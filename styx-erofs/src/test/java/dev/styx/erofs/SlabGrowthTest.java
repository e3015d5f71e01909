package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.styx.erofs.slab.SlabFileWriter;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3 acceptance 3: two trees that differ in a few bytes, built into one slab, grow it only by
 * the chunks that differ; both images stay correct on the shared slab.
 */
class SlabGrowthTest {
  @TempDir Path tmp;

  static void copyTree(Path from, Path to) throws IOException {
    try (var s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  static void randomFile(Path p, long size, Random r) throws IOException {
    try (var out = Files.newOutputStream(p)) {
      byte[] b = new byte[1 << 20];
      for (long done = 0; done < size; done += b.length) {
        r.nextBytes(b);
        out.write(b, 0, (int) Math.min(b.length, size - done));
      }
    }
  }

  static void flip(Path file, long at) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xFF);
    }
  }

  @Test
  void secondTreeAddsOnlyDifferingChunks() throws Exception {
    Path a = tmp.resolve("a");
    Files.createDirectories(a.resolve("lib"));
    Random r = new Random(11);
    randomFile(a.resolve("lib/big.so"), 10L << 20, r); // 160 chunks of 64 KiB
    randomFile(a.resolve("lib/large.jar"), 40L << 20, r); // 160 chunks of 256 KiB
    for (int i = 0; i < 200; i++) {
      Corpus.writeFile(a.resolve("lib/f" + i), 300 + i * 97, r); // one chunk each
    }
    Path b = tmp.resolve("b");
    copyTree(a, b);
    // A few bytes differ: 2 bytes in distinct 64 KiB chunks, 1 in a 256 KiB chunk, 1 small file.
    flip(b.resolve("lib/big.so"), 5L << 16);
    flip(b.resolve("lib/big.so"), (77L << 16) + 123);
    flip(b.resolve("lib/large.jar"), (3L << 18) + 9);
    flip(b.resolve("lib/f17"), 42);
    long expectedGrowth = 16 + 16 + 64 + (300 + 17 * 97 + 4095) / 4096;

    Path slab = tmp.resolve("slab");
    Corpus.Built ia = Corpus.build(a, slab, tmp.resolve("a.erofs"));
    long afterA = ia.slabBlocks();
    Corpus.Built ib = Corpus.build(b, slab, tmp.resolve("b.erofs"));
    long afterB = ib.slabBlocks();
    System.out.printf(
        "slab growth: tree A %d blocks (%d bytes); tree B adds %d blocks (%d bytes), expected %d"
            + " blocks for the 4 changed chunks; slab file %d bytes%n",
        afterA,
        afterA * 4096,
        afterB - afterA,
        (afterB - afterA) * 4096,
        expectedGrowth,
        Files.size(slab));
    assertEquals(expectedGrowth, afterB - afterA);
    assertEquals(afterB * 4096, Files.size(slab));

    // A third build of an identical tree adds nothing.
    Corpus.Built again = Corpus.build(b, slab, tmp.resolve("b2.erofs"));
    assertEquals(afterB, again.slabBlocks());

    Tiers.requireRoot();
    ImageChecks.assertMountMatches(ia.imageFile(), List.of(slab), a, tmp.resolve("mnt"));
    ImageChecks.assertMountMatches(ib.imageFile(), List.of(slab), b, tmp.resolve("mnt"));
    ImageChecks.assertFsckExtractMatches(ia.imageFile(), List.of(slab), a, tmp.resolve("xa"));
    ImageChecks.assertFsckExtractMatches(ib.imageFile(), List.of(slab), b, tmp.resolve("xb"));
  }

  @Test
  void slabWithoutIndexOrWithShortDataIsRefused() throws Exception {
    Path slab = tmp.resolve("s");
    try (SlabFileWriter w = SlabFileWriter.open(slab)) {
      w.append(new byte[5000], 0, 5000);
    }
    assertEquals(2 * 4096, Files.size(slab));
    Files.write(slab, new byte[4096]); // lost data the index still points at
    assertThrows(IOException.class, () -> SlabFileWriter.open(slab));
    Files.delete(SlabFileWriter.indexPath(slab));
    assertThrows(IOException.class, () -> SlabFileWriter.open(slab));
  }

  @Test
  void unindexedTailFromACrashIsDiscardedOnReopen() throws Exception {
    Path slab = tmp.resolve("s2");
    byte[] a = new byte[10_000];
    new Random(1).nextBytes(a);
    try (SlabFileWriter w = SlabFileWriter.open(slab)) {
      assertEquals(0, w.append(a, 0, a.length));
    }
    // A crashed writer appended data but never wrote its index.
    Files.write(slab, new byte[3 * 4096], java.nio.file.StandardOpenOption.APPEND);
    byte[] b = new byte[5000];
    new Random(2).nextBytes(b);
    try (SlabFileWriter w = SlabFileWriter.open(slab)) {
      assertEquals(3 * 4096, Files.size(slab), "tail past the index dropped");
      assertEquals(0, w.append(a, 0, a.length), "known chunk deduplicated");
      assertEquals(3, w.append(b, 0, b.length), "new chunk appended at the indexed end");
      assertEquals(1, w.chunksAdded());
      assertEquals(1, w.chunksReused());
    }
    assertEquals(5 * 4096, Files.size(slab));
  }
}
