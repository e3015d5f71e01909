package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * Issue 3 acceptance 4: seeded mutation fuzzing of the reader. Every mutated image must either
 * parse or fail with {@link ErofsFormatException}; nothing else may escape, no parse may take long,
 * and each parse may allocate only a bounded multiple of the image size.
 */
class ReaderFuzzTest {
  static final int ITERATIONS = 12_000;

  /** Base images covering every layout the writer emits. */
  static List<byte[]> baseImages() {
    List<ErofsDevice> devs =
        List.of(new ErofsDevice("slab-a", 1L << 28), new ErofsDevice("slab-b", 1L << 20));
    Random r = new Random(3);
    List<ErofsNode.Entry> wide = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      wide.add(new ErofsNode.Entry("entry-" + i, ErofsNode.InlineFile.of("v" + i, i % 3 == 0)));
    }
    byte[] mid = new byte[5000];
    byte[] plain = new byte[8192];
    r.nextBytes(mid);
    r.nextBytes(plain);
    List<ChunkLocation> locs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      locs.add(new ChunkLocation(1 + (i % 2), 100 + i * 16));
    }
    ErofsNode.Directory root =
        ErofsNode.Directory.of(
            new ErofsNode.Entry("wide", new ErofsNode.Directory(wide)),
            new ErofsNode.Entry("mid", new ErofsNode.InlineFile(mid, false)),
            new ErofsNode.Entry("plain", new ErofsNode.InlineFile(plain, true)),
            new ErofsNode.Entry("empty", new ErofsNode.InlineFile(new byte[0], false)),
            new ErofsNode.Entry("chunked", new ErofsNode.ChunkedFile(300_000, 16, locs, true)),
            new ErofsNode.Entry("short-link", ErofsNode.Symlink.of("wide/entry-1")),
            new ErofsNode.Entry("long-link", ErofsNode.Symlink.of("x".repeat(4080))),
            new ErofsNode.Entry(
                "a",
                ErofsNode.Directory.of(
                    new ErofsNode.Entry(
                        "b",
                        ErofsNode.Directory.of(
                            new ErofsNode.Entry("c", ErofsNode.InlineFile.of("deep", false)))))));
    ErofsNode.Directory tiny =
        ErofsNode.Directory.of(new ErofsNode.Entry("f", ErofsNode.InlineFile.of("x", false)));
    return List.of(
        ErofsWriter.write(new ErofsImage(root, devs)),
        ErofsWriter.write(new ErofsImage(tiny, List.of())));
  }

  static void fixCrc(byte[] img) {
    if (img.length < 4096) {
      return;
    }
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(1024 + 4, 0);
    CRC32C c = new CRC32C();
    c.update(img, 1024, 3072);
    b.putInt(1024 + 4, ~(int) c.getValue());
  }

  static byte[] mutate(byte[] base, Random r) {
    byte[] m;
    int kind = r.nextInt(4);
    switch (kind) {
      case 0 -> { // truncation
        m = Arrays.copyOf(base, r.nextInt(base.length + 1));
      }
      case 1 -> { // scattered byte flips, half of them in the metadata-heavy first blocks
        m = base.clone();
        int flips = 1 + r.nextInt(16);
        for (int i = 0; i < flips; i++) {
          int at = r.nextBoolean() ? r.nextInt(Math.min(m.length, 3 * 4096)) : r.nextInt(m.length);
          m[at] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 2 -> { // huge or extreme values in integer fields
        m = base.clone();
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        int[] superFields = {14, 16, 36, 40, 80, 86, 88, 90};
        int fields = 1 + r.nextInt(3);
        for (int i = 0; i < fields; i++) {
          int at =
              r.nextInt(3) == 0
                  ? 1024 + superFields[r.nextInt(superFields.length)]
                  : (r.nextInt(Math.max(1, Math.min(m.length, 3 * 4096) / 2)) * 2);
          long v =
              switch (r.nextInt(5)) {
                case 0 -> -1L;
                case 1 -> 0x7FFF_FFFFL;
                case 2 -> 0;
                case 3 -> 0xFFFFL;
                default -> r.nextLong();
              };
          int width = 2 << r.nextInt(3);
          if (at + width <= m.length) {
            switch (width) {
              case 2 -> b.putShort(at, (short) v);
              case 4 -> b.putInt(at, (int) v);
              default -> b.putLong(at, v);
            }
          }
        }
      }
      default -> { // copy one region over another (shared/looping structures)
        m = base.clone();
        int len = 12 + r.nextInt(256);
        if (m.length > 2 * len) {
          int from = r.nextInt(m.length - len);
          int to = r.nextInt(m.length - len);
          System.arraycopy(m, from, m, to, len);
        }
      }
    }
    if (r.nextInt(5) != 0) {
      fixCrc(m); // most mutants get a valid checksum so they reach the deeper checks
    }
    return m;
  }

  @Test
  void mutatedImagesOnlyFailWithFormatErrors() {
    List<byte[]> bases = baseImages();
    for (byte[] b : bases) {
      try {
        ErofsReader.read(b);
      } catch (ErofsFormatException e) {
        fail("base image must parse: " + e.getMessage());
      }
    }
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int[] outcome = new int[2];
    long[] worst = new long[2];
    assertTimeoutPreemptively(
        Duration.ofMinutes(3),
        () -> {
          // assertTimeoutPreemptively runs this on its own thread: measure that thread.
          long tid = Thread.currentThread().threadId();
          Random r = new Random(20261124L);
          for (int it = 0; it < ITERATIONS; it++) {
            byte[] base = bases.get(it % bases.size());
            byte[] m = mutate(base, r);
            long a0 = mx.getThreadAllocatedBytes(tid);
            long t0 = System.nanoTime();
            try {
              ErofsReader.read(m);
              outcome[0]++;
            } catch (ErofsFormatException e) {
              outcome[1]++;
            } catch (Throwable t) {
              throw new AssertionError("iteration " + it + ": " + t, t);
            }
            long ns = System.nanoTime() - t0;
            long alloc = mx.getThreadAllocatedBytes(tid) - a0;
            worst[0] = Math.max(worst[0], ns);
            worst[1] = Math.max(worst[1], alloc);
            assertTrue(
                alloc <= 64L * base.length + (4 << 20),
                "iteration "
                    + it
                    + " allocated "
                    + alloc
                    + " bytes for a "
                    + m.length
                    + "-byte image");
            assertTrue(ns < 2_000_000_000L, "iteration " + it + " took " + ns / 1_000_000 + " ms");
          }
        });
    System.out.printf(
        "fuzz: %d mutants, %d parsed, %d rejected; worst parse %.1f ms, worst allocation %d KiB%n",
        ITERATIONS, outcome[0], outcome[1], worst[0] / 1e6, worst[1] >> 10);
    assertEquals(ITERATIONS, outcome[0] + outcome[1]);
    assertTrue(outcome[1] > ITERATIONS / 4, "most mutants should be caught");
  }

  @Test
  void specificCorruptionsAreNamed() throws Exception {
    byte[] base = baseImages().get(0);
    byte[] bad = base.clone();
    bad[1024 + 100] ^= 1; // inside the superblock, checksum not fixed
    assertMessage(bad, "checksum");
    bad = base.clone();
    bad[1024] = 0;
    assertMessage(bad, "magic");
    assertMessage(Arrays.copyOf(base, 100), "shorter than one block");
    bad = base.clone();
    ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(1024 + 80, 0x2 | 0xC);
    fixCrc(bad);
    assertMessage(bad, "unsupported incompatible features");
  }

  static void assertMessage(byte[] img, String part) {
    try {
      ErofsReader.read(img);
      fail("expected an ErofsFormatException mentioning " + part);
    } catch (ErofsFormatException e) {
      assertTrue(e.getMessage().contains(part), e.getMessage());
    }
  }
}
