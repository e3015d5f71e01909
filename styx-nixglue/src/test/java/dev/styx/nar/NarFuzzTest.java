package dev.styx.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutations of a valid NAR: the reader either rejects the input with a {@link
 * NarFormatException} (never another exception) or accepts it, and then re-serializing gives the
 * same bytes back, so everything accepted is canonical.
 */
class NarFuzzTest {
  @Test
  void mutationsAreRejectedOrCanonical() throws Exception {
    byte[] base = NarReaderHostileTest.smallNar();
    Random rnd = new Random(20261124);
    int accepted = 0;
    int rejected = 0;
    for (int i = 0; i < 5_000; i++) {
      byte[] m = base.clone();
      int edits = 1 + rnd.nextInt(3);
      for (int e = 0; e < edits; e++) {
        int at = rnd.nextInt(m.length);
        switch (rnd.nextInt(4)) {
          case 0 -> m[at] ^= (byte) (1 << rnd.nextInt(8));
          case 1 -> m[at] = (byte) rnd.nextInt(256);
          case 2 -> m[at] = 0;
          default -> m[at] = (byte) "abz/.\0()".charAt(rnd.nextInt(8));
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        try (NarWriter w = new NarWriter(out)) {
          NarReader.read(new ByteArrayInputStream(m), w);
        }
        assertArrayEquals(m, out.toByteArray(), "accepted NAR is not canonical, mutation " + i);
        accepted++;
      } catch (NarFormatException expected) {
        rejected++;
      } catch (Exception other) {
        throw new AssertionError("mutation " + i + " raised " + other, other);
      }
    }
    System.out.println("NarFuzzTest: " + accepted + " accepted, " + rejected + " rejected");
    // Content-byte flips stay valid, structural ones do not: both sides must be exercised.
    assertTrue(
        accepted > 25 && rejected > 2_500, accepted + " accepted, " + rejected + " rejected");
  }
}
