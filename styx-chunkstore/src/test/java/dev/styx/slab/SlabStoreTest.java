package dev.styx.slab;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
  void directIoSlabsWriteAndReadWholeBlocksAndMatchABufferedReader() throws Exception {
    // /tmp is ext4 here (as in CI): O_DIRECT is accepted and every write/read must be aligned.
    byte[] a = new byte[70_001];
    byte[] b = new byte[5];
    new Random(3).nextBytes(a);
    new Random(4).nextBytes(b);
    Path dir = tmp.resolve("dslabs");
    SlabLocation la = new SlabLocation(0, 0, a.length);
    SlabLocation lb = new SlabLocation(0, la.blocks(), b.length);
    try (SlabStore s = SlabStore.open(dir, id -> java.util.OptionalInt.empty(), true)) {
      int fd = s.slab(0);
      assertTrue(s.isDirect(0), "ext4 takes O_DIRECT");
      assertTrue(
          (dev.styx.kernel.Syscalls.statusFlags(fd) & dev.styx.kernel.Syscalls.O_DIRECT) != 0);
      s.write(la, VerifiedChunk.verify(ChunkDigest.of(a), a.length, a.clone()));
      s.write(lb, VerifiedChunk.verify(ChunkDigest.of(b), b.length, b.clone()));
      s.sync(List.of(0));
      assertArrayEquals(a, s.read(la));
      assertArrayEquals(b, s.read(lb));
    }
    // What an EROFS mount (or anyone) reads through the page cache is the same bytes, zero-padded.
    byte[] head = new byte[(int) ((la.blocks() + lb.blocks()) * 4096)];
    try (var ch = java.nio.channels.FileChannel.open(dir.resolve("slab-0"))) {
      java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(head);
      while (bb.hasRemaining() && ch.read(bb, bb.position()) > 0) {}
    }
    assertArrayEquals(a, java.util.Arrays.copyOfRange(head, 0, a.length));
    assertArrayEquals(
        new byte[(int) (la.blocks() * 4096 - a.length)],
        java.util.Arrays.copyOfRange(head, a.length, (int) (la.blocks() * 4096)));
    assertArrayEquals(
        b,
        java.util.Arrays.copyOfRange(
            head, (int) (la.blocks() * 4096), (int) (la.blocks() * 4096) + b.length));
    // A buffered store of the same directory reads them too (flags belong to the fd, not the file).
    try (SlabStore s = SlabStore.open(dir)) {
      assertFalse(s.isDirect(0));
      assertArrayEquals(a, s.read(la));
    }
  }

  @Test
  void aFileSystemWithoutDirectIoKeepsTheSlabBuffered() throws Exception {
    dev.styx.testing.Tiers.requireRoot();
    // ramfs has no direct I/O: O_DIRECT is refused with EINVAL, and the slab stays buffered.
    Path mnt = Files.createDirectories(tmp.resolve("ramfs"));
    dev.styx.kernel.Syscalls.mount("none", mnt, "ramfs", 0, null);
    try {
      byte[] a = new byte[10_000];
      new Random(5).nextBytes(a);
      try (SlabStore s =
          SlabStore.open(mnt.resolve("slabs"), id -> java.util.OptionalInt.empty(), true)) {
        s.slab(0);
        assertFalse(s.isDirect(0));
        SlabLocation la = new SlabLocation(0, 0, a.length);
        s.write(la, VerifiedChunk.verify(ChunkDigest.of(a), a.length, a.clone()));
        assertArrayEquals(a, s.read(la));
      }
    } finally {
      dev.styx.kernel.Syscalls.umount(mnt, 0);
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
