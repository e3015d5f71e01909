package dev.styx.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
  void aFullPoolMakesRoomForTheClassInUse() {
    // A NAR's large file fills the pool with large arrays; its small files after it must still
    // recycle their arrays (before, each small buffer after a large file was a new array).
    ArrayPool p = new ArrayPool(4000, 100, 1000);
    List<byte[]> large = List.of(p.take(1000), p.take(1000), p.take(1000), p.take(1000));
    large.forEach(p::give);
    assertEquals(4000, p.retainedBytes());
    long before = p.allocations();
    for (int round = 0; round < 100; round++) {
      byte[] a = p.take(100);
      byte[] b = p.take(100);
      p.give(a);
      p.give(b);
    }
    assertEquals(before + 2, p.allocations(), "only the first two small arrays are new");
    assertTrue(p.retainedBytes() <= 4000, "the cap still holds: " + p.retainedBytes());
    // One large array made room for the two small ones; the other three are still reused.
    assertEquals(3200, p.retainedBytes());
    long afterSmall = p.allocations();
    for (int i = 0; i < 3; i++) {
      assertTrue(large.contains(p.take(1000)));
    }
    assertEquals(afterSmall, p.allocations());
    p.take(1000);
    assertEquals(afterSmall + 1, p.allocations());
  }

  @Test
  void classesMustAscend() {
    assertThrows(IllegalArgumentException.class, () -> new ArrayPool(1, 100, 100));
  }
}
