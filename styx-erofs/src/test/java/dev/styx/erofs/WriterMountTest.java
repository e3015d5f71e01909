package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.erofs.slab.DirectoryImporter;
import dev.styx.erofs.slab.SlabFileWriter;
import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small trees written by {@link ErofsWriter}, mounted by the kernel and checked by fsck.erofs. */
class WriterMountTest {
  @TempDir Path tmp;

  static int policy(long size) {
    return size <= 16L << 20 ? 16 : size <= 64L << 20 ? 18 : 20;
  }

  @Test
  void smallTreeMountsAndMatchesSourceNar() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("bin"));
    Files.createDirectories(src.resolve("share/empty"));
    Files.writeString(src.resolve("hello.txt"), "hello styx\n");
    byte[] big = new byte[300_001];
    new Random(1).nextBytes(big);
    Files.write(src.resolve("share/big.bin"), big);
    Path exe = src.resolve("bin/run");
    Files.writeString(exe, "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("share/big.bin"));
    Files.write(src.resolve("empty"), new byte[0]);

    Path slabFile = tmp.resolve("slab");
    Path image = tmp.resolve("image.erofs");
    try (SlabFileWriter slab = SlabFileWriter.open(slabFile)) {
      DirectoryImporter imp = new DirectoryImporter(slab, 1, WriterMountTest::policy, 224);
      ErofsNode.Directory root = imp.importTree(src);
      Files.write(image, ErofsWriter.write(new ErofsImage(root, List.of(slab.device()))));
    }
    ImageChecks.assertMountMatches(image, List.of(slabFile), src, tmp.resolve("mnt"));
    ImageChecks.withMount(
        image,
        List.of(slabFile),
        tmp.resolve("mnt"),
        m -> {
          assertArrayEquals(big, Files.readAllBytes(m.resolve("share/big.bin")));
          assertEquals(
              "r-xr-xr-x",
              PosixFilePermissions.toString(Files.getPosixFilePermissions(m.resolve("bin/run"))));
          assertEquals(
              "r--r--r--",
              PosixFilePermissions.toString(Files.getPosixFilePermissions(m.resolve("hello.txt"))));
          assertEquals(1000L, Files.getLastModifiedTime(m.resolve("hello.txt")).toMillis());
        });
    ImageChecks.assertFsckExtractMatches(image, List.of(slabFile), src, tmp.resolve("x"));
  }

  @Test
  void fileOver4GiBUsesExtendedInodeAndReadsBackThroughTheKernel() throws Exception {
    long size = (5L << 30) + 123;
    int shift = 20;
    long n = ErofsNode.ChunkedFile.chunkCount(size, shift);
    Path slabFile = tmp.resolve("sparse-slab");
    List<ChunkLocation> locs = new java.util.ArrayList<>();
    // Chunks stored in reverse order in the slab, so a wrong index shows up as wrong bytes.
    long slabBlocks = n * 256;
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(slabFile.toFile(), "rw")) {
      f.setLength(slabBlocks * 4096);
      for (long i = 0; i < n; i++) {
        long blk = (n - 1 - i) * 256;
        locs.add(new ChunkLocation(1, blk));
        f.seek(blk * 4096);
        f.writeLong(i);
      }
    }
    ErofsNode.Directory root =
        ErofsNode.Directory.of(
            new ErofsNode.Entry("big", new ErofsNode.ChunkedFile(size, shift, locs, false)));
    Path image = tmp.resolve("big.erofs");
    Files.write(
        image,
        ErofsWriter.write(new ErofsImage(root, List.of(new ErofsDevice("sparse", slabBlocks)))));
    ImageChecks.withMount(
        image,
        List.of(slabFile),
        tmp.resolve("mnt"),
        m -> {
          Path big = m.resolve("big");
          assertEquals(size, Files.size(big));
          assertEquals(1000L, Files.getLastModifiedTime(big).toMillis());
          try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(big)) {
            for (long i : new long[] {0, 1, 4096, n - 1}) {
              java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8);
              ch.read(b, i << shift);
              assertEquals(i, b.flip().getLong(), "chunk " + i);
            }
          }
        });
  }

  @Test
  void chunksOnTwoSlabsMountWithTwoDevices() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src2"));
    Random rnd = new Random(7);
    for (int i = 0; i < 6; i++) {
      byte[] b = new byte[100_000 + i];
      rnd.nextBytes(b);
      Files.write(src.resolve("f" + i), b);
    }
    Path s1 = tmp.resolve("slab-a");
    Path s2 = tmp.resolve("slab-b");
    ErofsNode.Directory root;
    List<ErofsDevice> devs;
    try (SlabFileWriter a = SlabFileWriter.open(s1);
        SlabFileWriter b = SlabFileWriter.open(s2)) {
      List<ErofsNode.Entry> es = new java.util.ArrayList<>();
      for (int i = 0; i < 6; i++) {
        byte[] data = Files.readAllBytes(src.resolve("f" + i));
        List<ChunkLocation> locs = new java.util.ArrayList<>();
        for (int c = 0; c * 65536 < data.length; c++) {
          int len = Math.min(65536, data.length - c * 65536);
          // alternate slabs chunk by chunk
          locs.add(
              (c + i) % 2 == 0
                  ? a.appendChunk(1, data, c * 65536, len)
                  : b.appendChunk(2, data, c * 65536, len));
        }
        es.add(
            new ErofsNode.Entry("f" + i, new ErofsNode.ChunkedFile(data.length, 16, locs, false)));
      }
      root = new ErofsNode.Directory(es);
      devs = List.of(a.device(), b.device());
    }
    Path image = tmp.resolve("two.erofs");
    Files.write(image, ErofsWriter.write(new ErofsImage(root, devs)));
    ImageChecks.assertMountMatches(image, List.of(s1, s2), src, tmp.resolve("mnt"));
    ImageChecks.assertFsckExtractMatches(image, List.of(s1, s2), src, tmp.resolve("x2"));
  }

  /** A directory of 15 255-byte names plus one name of {@code lastLen} bytes (and . and ..). */
  static ErofsNode.Directory edgeDir(int lastLen, List<String> names) {
    List<ErofsNode.Entry> es = new java.util.ArrayList<>();
    for (int i = 0; i < 15; i++) {
      String n = "a".repeat(254) + (char) ('0' + i);
      names.add(n);
      es.add(new ErofsNode.Entry(n, ErofsNode.InlineFile.of(n.substring(250), false)));
    }
    String last = "b".repeat(lastLen);
    names.add(last);
    es.add(new ErofsNode.Entry(last, ErofsNode.InlineFile.of("last", false)));
    return new ErofsNode.Directory(es);
  }

  @Test
  void directoriesAtBlockBoundariesListAndLookUp() throws Exception {
    // Directory sizes: 27 + 15 * 267 + (12 + lastLen): exactly one block (plain), 4070 bytes
    // (too big to inline: plain, partial block), 4063 bytes (the largest inline tail).
    int[] lastLens = {52, 26, 19};
    List<List<String>> names = new java.util.ArrayList<>();
    List<ErofsNode.Entry> top = new java.util.ArrayList<>();
    for (int d = 0; d < lastLens.length; d++) {
      List<String> n = new java.util.ArrayList<>();
      top.add(new ErofsNode.Entry("d" + d, edgeDir(lastLens[d], n)));
      names.add(n);
    }
    // A 64-byte inline directory tail (27 + 12 + 25) ends on a 32-byte slot boundary; the next
    // inode ("z", inline, first byte 0x04) would follow directly were no NUL reserved after it.
    // Older kernels' lookup compares a block's last name up to a NUL or the block end (6.18 also
    // passes without the NUL; the writer keeps it for the older ones).
    top.add(
        new ErofsNode.Entry(
            "e",
            ErofsNode.Directory.of(
                new ErofsNode.Entry("x".repeat(25), ErofsNode.InlineFile.of("found", false)))));
    top.add(new ErofsNode.Entry("z", ErofsNode.InlineFile.of("after the directories", false)));
    Path image = tmp.resolve("edges.erofs");
    ErofsImage img = new ErofsImage(new ErofsNode.Directory(top), List.of());
    Files.write(image, ErofsWriter.write(img));
    assertEquals(img, ErofsReader.read(image));
    ImageChecks.withMount(
        image,
        List.of(),
        tmp.resolve("mnt"),
        m -> {
          for (int d = 0; d < lastLens.length; d++) {
            Path dir = m.resolve("d" + d);
            List<String> listed;
            try (var s = Files.list(dir)) {
              listed = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            assertEquals(names.get(d).stream().sorted().toList(), listed, "readdir of d" + d);
            for (String n : names.get(d)) {
              String want = n.startsWith("b") ? "last" : n.substring(250);
              assertEquals(want, Files.readString(dir.resolve(n)), "lookup of " + n);
            }
          }
          assertEquals("after the directories", Files.readString(m.resolve("z")));
          assertEquals("found", Files.readString(m.resolve("e/" + "x".repeat(25))));
        });
    Tiers.requireCommand("fsck.erofs");
    Tiers.run(null, "fsck.erofs", image.toString());
  }
}
