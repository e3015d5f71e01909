package dev.styx.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Size classes, reuse and the retention cap of {@link ArrayPool}. */
class ArrayPoolTest {
  @Test
  void aRequestGetsTheSmallestClassThatHoldsIt() {
    ArrayPool p = new ArrayPool(1 << 20, 100, 1000, 10_000);
    assertEquals(100, p.take(1).length);
    assertEquals(100, p.take(100).length);
    assertEquals(1000, p.take(101).length);
    assertEquals(10_000, p.take(10_000).length);
    assertEquals(10_001, p.take(10_001).length, "larger than every class: exact, unpooled");
    assertEquals(5, p.allocations());
  }

  @Test
  void givenArraysAreReusedInTheirOwnClass() {
    ArrayPool p = new ArrayPool(1 << 20, 100, 1000);
    byte[] small = p.take(50);
    byte[] large = p.take(500);
    p.give(small);
    p.give(large);
    assertEquals(1100, p.retainedBytes());
    assertSame(large, p.take(1000));
    assertSame(small, p.take(7));
    assertEquals(0, p.retainedBytes());
    assertEquals(2, p.allocations(), "the second takes allocated nothing");
  }

  @Test
  void oversizedAndForeignArraysAreNeverKept() {
    ArrayPool p = new ArrayPool(1 << 20, 100);
    p.give(p.take(5000));
    p.give(new byte[99]);
    assertEquals(0, p.retainedBytes());
    p.take(100);
    assertEquals(2, p.allocations());
  }

  @Test
  void beyondTheCapArraysAreLeftToTheGc() {
    ArrayPool p = new ArrayPool(250, 100);
    byte[] a = p.take(100);
    byte[] b = p.take(100);
    byte[] c = p.take(100);
    p.give(a);
    p.give(b);
    p.give(c); // 300 > 250: dropped
    assertEquals(200, p.retainedBytes());
    assertSame(a, p.take(100));
    assertSame(b, p.take(100));
    assertNotSame(c, p.take(100));
    assertEquals(4, p.allocations());
  }

  @Test
  void classesMustAscend() {
    assertThrows(IllegalArgumentException.class, () -> new ArrayPool(1, 100, 100));
  }
}
