package dev.styx.slab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.chunk.ChunkDigest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlabStoreTest {
  @TempDir Path tmp;

  @Test
  void writesBlockAlignedAndReadsBack() throws Exception {
    byte[] a = new byte[70_001];
    byte[] b = new byte[5];
    new Random(1).nextBytes(a);
    new Random(2).nextBytes(b);
    try (SlabStore s = SlabStore.open(tmp.resolve("slabs"))) {
      SlabLocation la = new SlabLocation(0, 0, a.length);
      SlabLocation lb = new SlabLocation(0, la.blocks(), b.length);
      assertEquals(18, la.blocks());
      s.write(la, VerifiedChunk.verify(ChunkDigest.of(a), a.length, a.clone()));
      s.write(lb, VerifiedChunk.verify(ChunkDigest.of(b), b.length, b.clone()));
      s.sync(List.of(0));
      assertArrayEquals(a, s.read(la));
      assertArrayEquals(b, s.read(lb));
      assertEquals(SlabStore.SLAB_BYTES, Files.size(s.file(0)));
      long onDisk = s.bytesOnDisk();
      assertTrue(onDisk >= 19 * 4096L && onDisk < 1 << 20, "sparse slab, got " + onDisk);
    }
    // Reopening finds the slab and its data.
    try (SlabStore s = SlabStore.open(tmp.resolve("slabs"))) {
      assertEquals(List.of(0), s.slabIds());
      assertArrayEquals(b, s.read(new SlabLocation(0, 18, 5)));
    }
  }

  @Test
  void rejectsBytesThatDoNotMatchTheirDigest() {
    byte[] a = "hello".getBytes();
    ChunkDigest d = ChunkDigest.of(a);
    byte[] flipped = a.clone();
    flipped[0] ^= 1;
    ChunkDigestMismatchException e =
        assertThrows(ChunkDigestMismatchException.class, () -> VerifiedChunk.verify(d, 5, flipped));
    assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
    assertThrows(ChunkDigestMismatchException.class, () -> VerifiedChunk.verify(d, 6, a));
  }

  @Test
  void refusesAChunkOfTheWrongLengthForItsPlacement() throws Exception {
    byte[] a = new byte[100];
    try (SlabStore s = SlabStore.open(tmp.resolve("slabs"))) {
      VerifiedChunk c = VerifiedChunk.verify(ChunkDigest.of(a), 100, a);
      assertThrows(IllegalArgumentException.class, () -> s.write(new SlabLocation(0, 0, 99), c));
    }
  }

  @Test
  void locationsStayInsideTheSlab() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new SlabLocation(0, SlabLocation.SLAB_BLOCKS - 1, 8192));
    SlabLocation l = new SlabLocation(1, 10, 4097);
    assertEquals(40960, l.offset());
    assertTrue(l.covers(40960 + 8191));
    assertTrue(!l.covers(40960 + 8192));
  }
}
