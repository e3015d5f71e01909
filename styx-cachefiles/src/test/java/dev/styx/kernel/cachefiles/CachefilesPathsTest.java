package dev.styx.kernel.cachefiles;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * fscache's hash and cachefiles' layout. The pinned paths were observed on the 6.12 test kernel
 * (the VM tier checks the computed path of every cookie it creates against the real file).
 */
class CachefilesPathsTest {

  @Test
  void matchesThePathTheKernelCreated() {
    // Observed on the 6.12 test kernel by the VM tier (domain "serve", slab 0).
    assertEquals(
        Path.of("/c/cache/Ierofs,serve/@a5/Dstyx-slab-0"),
        CachefilesPaths.backingFile(Path.of("/c"), "serve", "styx-slab-0"));
  }

  @Test
  void layoutIsVolumeFanoutAndDataObject() {
    Path p = CachefilesPaths.backingFile(Path.of("/c"), "serve", "styx-slab-0");
    assertEquals("/c/cache/Ierofs,serve", p.getParent().getParent().toString());
    assertEquals("Dstyx-slab-0", p.getFileName().toString());
    assertEquals(true, p.getParent().getFileName().toString().matches("@[0-9a-f]{2}"));
  }

  @Test
  void hashOfEmptyInputFoldsTheSalt() {
    // No words mixed: x = 0, y = salt; fold = (salt ^ 0) * GOLDEN_RATIO_32.
    assertEquals(0, CachefilesPaths.hash(0, new byte[0]));
    assertEquals(0x61C88647, CachefilesPaths.hash(1, new byte[0]));
  }

  @Test
  void hashMatchesAHandComputedRound() {
    // One word a = 1: x = 1, y = 0 ^ 1 = 1, x = rol(1,7) = 128, x += y -> 129, y = rol(1,20),
    // y *= 9; fold = (y ^ x * G) * G.
    int x = 129;
    int y = (1 << 20) * 9;
    int g = 0x61C88647;
    assertEquals((y ^ x * g) * g, CachefilesPaths.hash(0, new byte[] {1, 0, 0, 0}));
  }
}
