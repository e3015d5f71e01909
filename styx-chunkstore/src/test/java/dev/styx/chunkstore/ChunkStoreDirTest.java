package dev.styx.chunkstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.chunk.ChunkDigest;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreDirTest {
  @TempDir Path tmp;

  @Test
  void putIsIdempotentAtomicAndReadableByZstdCli() throws Exception {
    ChunkStoreDir s = new ChunkStoreDir(tmp, 3);
    byte[] data = "chunk data ".repeat(5000).getBytes();
    ChunkDigest d = ChunkDigest.of(data);
    assertTrue(s.putChunk(d, data, 0, data.length) > 0);
    assertEquals(-1, s.putChunk(d, data, 0, data.length), "second put is a no-op");
    assertArrayEquals(data, s.readChunk(d).orElseThrow());
    assertTrue(Files.exists(tmp.resolve("chunk").resolve(d.hex())));
    Tiers.requireCommand("zstd");
    Path out = tmp.resolve("out");
    Tiers.run(
        tmp,
        "zstd",
        "-q",
        "-d",
        tmp.resolve("chunk").resolve(d.hex()).toString(),
        "-o",
        out.toString());
    assertArrayEquals(data, Files.readAllBytes(out));
    try (Stream<Path> t = Files.list(s.tmpDir())) {
      assertEquals(0, t.count());
    }
  }

  @Test
  void chunksWithoutUnnamedFilesGoThroughTempFilesAndStillDropBehind() throws Exception {
    ChunkStoreDir s = withDropBehind(tmp);
    s.useTempFilesForChunks();
    List<ChunkDigest> ds = putRandomChunks(s, DropBehind.WINDOW + 8, 16 << 10);
    for (ChunkDigest d : ds) {
      assertTrue(s.readChunk(d).isPresent());
      assertEquals(-1, s.putChunk(d, new byte[0], 0, 0), "present: not written again");
    }
    try (Stream<Path> t = Files.list(s.tmpDir())) {
      assertEquals(0, t.count(), "every temp file was renamed into place");
    }
  }

  @Test
  void concurrentWritersOfTheSameChunkLeaveOneGoodObject() throws Exception {
    ChunkStoreDir s = new ChunkStoreDir(tmp, 3);
    byte[] data = new byte[65536];
    new java.util.Random(1).nextBytes(data);
    ChunkDigest d = ChunkDigest.of(data);
    List<Future<Long>> fs = new ArrayList<>();
    try (ExecutorService ex = Executors.newFixedThreadPool(8)) {
      for (int i = 0; i < 32; i++) {
        fs.add(ex.submit(() -> s.putChunk(d, data, 0, data.length)));
      }
    }
    for (Future<Long> f : fs) {
      f.get();
    }
    assertArrayEquals(data, s.readChunk(d).orElseThrow());
    try (Stream<Path> t = Files.list(s.tmpDir())) {
      assertEquals(0, t.count());
    }
  }

  @Test
  void corruptObjectIsDetectedAndHostileKeysRejected() throws Exception {
    ChunkStoreDir s = new ChunkStoreDir(tmp, 3);
    byte[] a = "aaaa".repeat(100).getBytes();
    byte[] b = "bbbb".repeat(100).getBytes();
    ChunkDigest da = ChunkDigest.of(a);
    // An object whose content does not match its name (a tampered store).
    Files.write(s.chunkPath(da), s.compress(b, 0, b.length));
    var e = assertThrows(IOException.class, () -> s.readChunk(da));
    assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
    assertTrue(s.readChunk(ChunkDigest.of(new byte[1])).isEmpty());
    for (String bad : new String[] {"..", "../x", "a/b", "", ".hidden", "x\0y"}) {
      assertThrows(IllegalArgumentException.class, () -> s.manifestPath(bad), bad);
    }
    s.putManifest("abc-1", new byte[] {1, 2});
    assertArrayEquals(new byte[] {1, 2}, s.readManifest("abc-1").orElseThrow());
    // Stale temp files from a crash are removed on open.
    Path stale = s.tmpDir().resolve("1-1.tmp");
    Path live = s.tmpDir().resolve("2-1.tmp");
    Files.write(stale, new byte[10]);
    Files.write(live, new byte[10]);
    Files.setLastModifiedTime(
        stale,
        java.nio.file.attribute.FileTime.fromMillis(
            System.currentTimeMillis() - ChunkStoreDir.STALE_TMP_MILLIS - 1000));
    new ChunkStoreDir(tmp, 3);
    assertTrue(!Files.exists(stale) && Files.exists(live), "only stale temp files are removed");
  }

  /** Resident bytes of a file in the page cache, from util-linux {@code fincore}. */
  private static long residentBytes(Path file) throws Exception {
    String out =
        Tiers.run(null, "fincore", "--bytes", "--noheadings", "--output", "RES", file.toString());
    return Long.parseLong(out.trim());
  }

  /** A store opened with -Dstyx.chunkstore.dropBehind=true (read when a store is opened). */
  private static ChunkStoreDir withDropBehind(Path root) throws IOException {
    System.setProperty("styx.chunkstore.dropBehind", "true");
    try {
      return new ChunkStoreDir(root, 3);
    } finally {
      System.clearProperty("styx.chunkstore.dropBehind");
    }
  }

  private static List<ChunkDigest> putRandomChunks(ChunkStoreDir s, int count, int size)
      throws IOException {
    java.util.Random r = new java.util.Random(count);
    List<ChunkDigest> ds = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] data = new byte[size];
      r.nextBytes(data);
      ChunkDigest d = ChunkDigest.of(data);
      s.putChunk(d, data, 0, data.length);
      ds.add(d);
    }
    return ds;
  }

  @Test
  void writtenChunksLeaveThePageCacheOnlyWithDropBehind() throws Exception {
    Tiers.requireCommand("fincore");
    // A disk-backed file system: a tmpfs keeps its pages whatever the advice says.
    Path dir = Files.createTempDirectory(Path.of("target"), "drop-behind");
    String fs = Tiers.run(null, "stat", "-f", "-c", "%T", dir.toString()).trim();
    assertTrue(!fs.equals("tmpfs") && !fs.equals("ramfs"), "needs a disk file system, got " + fs);
    int old = 40;
    ChunkStoreDir s = withDropBehind(dir.resolve("on"));
    List<ChunkDigest> ds = putRandomChunks(s, DropBehind.WINDOW + old, 64 << 10);
    int dropped = 0;
    for (ChunkDigest d : ds.subList(0, old)) {
      dropped += residentBytes(s.chunkPath(d)) == 0 ? 1 : 0;
    }
    // Writeback of a 64 KiB file is normally done long before 64 more are written; allow a few
    // stragglers still under writeback (their pages stay, by design).
    assertTrue(dropped >= old * 3 / 4, dropped + " of the " + old + " oldest chunks dropped");
    assertTrue(residentBytes(s.chunkPath(ds.get(ds.size() - 1))) > 0, "newest chunk still cached");
    for (ChunkDigest d : ds) {
      assertTrue(s.readChunk(d).isPresent(), "dropped chunks read back from disk");
    }

    try {
      ChunkStoreDir kept = new ChunkStoreDir(dir.resolve("off"), 3); // the default
      List<ChunkDigest> ks = putRandomChunks(kept, DropBehind.WINDOW + old, 64 << 10);
      assertTrue(residentBytes(kept.chunkPath(ks.get(0))) > 0, "by default, chunks stay cached");
    } finally {
      try (Stream<Path> w = Files.walk(dir)) {
        for (Path p : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @Test
  void fullDiskGivesAClearErrorAndLeavesNoPartialObject() throws Exception {
    Tiers.requireRoot();
    Path mnt = Files.createDirectories(tmp.resolve("small"));
    Tiers.run(null, "mount", "-t", "tmpfs", "-o", "size=1m", "styx-test-full", mnt.toString());
    try {
      ChunkStoreDir s = new ChunkStoreDir(mnt, 3);
      java.util.Random r = new java.util.Random(7);
      List<ChunkDigest> stored = new ArrayList<>();
      IOException full = null;
      for (int i = 0; i < 64 && full == null; i++) {
        byte[] data = new byte[200_000]; // incompressible: ~200 KB per object, 1 MiB fills up
        r.nextBytes(data);
        ChunkDigest d = ChunkDigest.of(data);
        try {
          s.putChunk(d, data, 0, data.length);
          stored.add(d);
        } catch (IOException e) {
          full = e;
          assertTrue(Files.notExists(s.chunkPath(d)), "the failed chunk is not visible");
        }
      }
      assertTrue(full != null, "a 1 MiB file system never filled up");
      assertTrue(full.getMessage().contains("No space left on device"), full.getMessage());
      assertTrue(!stored.isEmpty(), "some chunks fit before the disk filled");
      for (ChunkDigest d : stored) {
        assertTrue(s.readChunk(d).isPresent(), "earlier chunks are intact");
      }
      try (Stream<Path> t = Files.list(s.tmpDir())) {
        assertEquals(0, t.count(), "no temp file left behind");
      }
    } finally {
      Tiers.run(null, "umount", mnt.toString());
    }
  }
}
