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
}
