package dev.styx.nar;

import static dev.styx.nar.NarBytes.dirWith;
import static dev.styx.nar.NarBytes.fileEntry;
import static dev.styx.nar.NarBytes.of;
import static dev.styx.nar.NarBytes.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and malformed NARs are rejected with an offset, and restore writes nothing. */
class NarReaderHostileTest {
  @TempDir Path tmp;

  static final NarVisitor SINK =
      new NarVisitor() {
        @Override
        public void directory(NarPath p) {}

        @Override
        public void regularFile(NarPath p, boolean x, long size, InputStream c) {}

        @Override
        public void symlink(NarPath p, String t) {}

        @Override
        public void endDirectory(NarPath p) {}
      };

  static NarFormatException reject(byte[] nar) {
    return assertThrows(
        NarFormatException.class, () -> NarReader.read(new ByteArrayInputStream(nar), SINK));
  }

  /** A small valid NAR with a directory, files, an executable, a symlink and nesting. */
  static byte[] smallNar() throws IOException {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (NarWriter w = new NarWriter(bo)) {
      w.directory(NarPath.ROOT);
      w.regularFile(NarPath.of("a"), false, "hello".getBytes());
      w.directory(NarPath.of("d"));
      w.regularFile(NarPath.of("d", "x"), true, "#!/bin/sh\n".getBytes());
      w.endDirectory(NarPath.of("d"));
      w.directory(NarPath.of("e"));
      w.endDirectory(NarPath.of("e"));
      w.symlink(NarPath.of("l"), "d/x");
      w.endDirectory(NarPath.ROOT);
    }
    return bo.toByteArray();
  }

  @Test
  void validBaselineParses() throws IOException {
    byte[] nar = smallNar();
    assertEquals(nar.length, NarReader.read(new ByteArrayInputStream(nar), SINK));
    byte[] built = of(dirWith(fileEntry("a", "x"), fileEntry("b", "y")));
    assertEquals(built.length, NarReader.read(new ByteArrayInputStream(built), SINK));
  }

  @Test
  void truncationAtEveryOffsetIsRejectedAndRestoresNothing() throws IOException {
    byte[] nar = smallNar();
    for (int cut = 0; cut < nar.length; cut++) {
      byte[] prefix = java.util.Arrays.copyOf(nar, cut);
      NarFormatException e = reject(prefix);
      assertTrue(e.offset() <= cut, "offset " + e.offset() + " beyond cut " + cut);
      Path target = tmp.resolve("t" + cut);
      assertThrows(
          IOException.class, () -> NarRestore.restore(new ByteArrayInputStream(prefix), target));
      assertFalse(Files.exists(target), "partial restore visible at cut " + cut);
    }
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(), s.toList(), "temporary restore trees left behind");
    }
  }

  @Test
  void trailingGarbageIsRejected() throws IOException {
    byte[] nar = smallNar();
    byte[] longer = java.util.Arrays.copyOf(nar, nar.length + 1);
    assertEquals(nar.length, reject(longer).offset());
  }

  @Test
  void badMagic() {
    assertEquals(0, reject(of("nix-archive-2", "(", "type", "directory", ")")).offset());
    assertEquals(0, reject(new byte[] {1, 2, 3}).offset());
    assertEquals(0, reject(of(u64(Long.MAX_VALUE))).offset());
  }

  @Test
  void nonZeroPaddingIsRejected() {
    byte[] nar = of(dirWith(fileEntry("a", "x")));
    // "nix-archive-1" is 13 bytes at offset 8; its 3 padding bytes are at 21..23.
    nar[22] = 7;
    NarFormatException e = reject(nar);
    assertEquals(22, e.offset());
    assertTrue(e.getMessage().contains("padding"), e.getMessage());
    // Padding after file contents ("x" is 1 byte; 7 padding bytes follow it).
    byte[] nar2 = of(dirWith(fileEntry("a", "x")));
    int idx = indexOf(nar2, new byte[] {'x', 0, 0, 0, 0, 0, 0, 0}, 0);
    nar2[idx + 7] = 1;
    assertEquals(idx + 7, reject(nar2).offset());
  }

  @Test
  void hostileNamesAreRejected() {
    for (Object bad :
        new Object[] {
          "..", ".", "", "a/b", "/", "/etc", new byte[] {'a', 0, 'b'}, "x".repeat(256)
        }) {
      byte[] nar = of(dirWith(fileEntry(bad, "pwned")));
      NarFormatException e = reject(nar);
      assertTrue(e.getMessage().contains("directory ''"), e.getMessage());
    }
    // 255 bytes is still fine.
    byte[] ok = of(dirWith(fileEntry("x".repeat(255), "fine")));
    assertFalseThrows(ok);
  }

  @Test
  void unsortedAndDuplicateNamesAreRejected() {
    NarFormatException dup = reject(of(dirWith(fileEntry("a", "1"), fileEntry("a", "2"))));
    assertTrue(dup.getMessage().contains("duplicate"), dup.getMessage());
    NarFormatException uns = reject(of(dirWith(fileEntry("b", "1"), fileEntry("a", "2"))));
    assertTrue(uns.getMessage().contains("unsorted"), uns.getMessage());
    // Byte order, not Unicode collation: "B" (0x42) < "a" (0x61) < "ä" (0xc3 0xa4).
    assertFalseThrows(of(dirWith(fileEntry("B", "1"), fileEntry("a", "2"), fileEntry("ä", "3"))));
    reject(of(dirWith(fileEntry("ä", "3"), fileEntry("a", "2"))));
  }

  @Test
  void hugeLengthFieldsAreRejectedWithoutAllocating() {
    // Entry name claiming 2^40 bytes.
    reject(of("nix-archive-1", "(", "type", "directory", "entry", "(", "name", u64(1L << 40)));
    // Negative (top bit set) file size.
    NarFormatException neg =
        reject(of("nix-archive-1", "(", "type", "regular", "contents", u64(-8)));
    assertTrue(neg.getMessage().contains("out of range"), neg.getMessage());
    // A file claiming 2^62 bytes: streamed, so it fails at EOF, not with OutOfMemoryError.
    NarFormatException big =
        reject(of("nix-archive-1", "(", "type", "regular", "contents", u64(1L << 62), u64(0)));
    assertTrue(big.getMessage().contains("truncated"), big.getMessage());
    // Token lengths are bounded too.
    reject(of("nix-archive-1", "(", "type", u64(Long.MAX_VALUE)));
    // Symlink target too long / empty / NUL.
    reject(of("nix-archive-1", "(", "type", "symlink", "target", "x".repeat(4096), ")"));
    reject(of("nix-archive-1", "(", "type", "symlink", "target", "", ")"));
    reject(of("nix-archive-1", "(", "type", "symlink", "target", new byte[] {'a', 0}, ")"));
    assertFalseThrows(of("nix-archive-1", "(", "type", "symlink", "target", "x".repeat(4095), ")"));
  }

  @Test
  void grammarViolationsAreRejected() {
    reject(of("nix-archive-1", "(", "type", "fifo", ")"));
    reject(of("nix-archive-1", "type", "regular", "contents", "x", ")"));
    reject(of("nix-archive-1", "(", "type", "regular", "executable", "yes", "contents", "", ")"));
    reject(of("nix-archive-1", "(", "type", "regular", "contents", "x", "executable", "", ")"));
    reject(of("nix-archive-1", "(", "type", "regular", "contents", "x"));
    reject(of("nix-archive-1", "(", "type", "directory", "entry", "(", "name", "a", ")", ")"));
    reject(of("nix-archive-1", "(", "type", "directory", "entry", "(", "node", "(", ")"));
    reject(of("nix-archive-1", "(", "type", "directory", "bogus", ")"));
    reject(of("nix-archive-1", "(", "type", "symlink", "target", "x", "extra", ")"));
  }

  @Test
  void nestingDepthIsBounded() {
    List<Object> parts = new ArrayList<>(List.of("nix-archive-1", "(", "type", "directory"));
    int depth = NarReader.MAX_DEPTH + 5;
    for (int i = 0; i < depth; i++) {
      parts.addAll(List.of("entry", "(", "name", "d", "node", "(", "type", "directory"));
    }
    for (int i = 0; i < depth; i++) {
      parts.addAll(List.of(")", ")"));
    }
    parts.add(")");
    NarFormatException e = reject(of(parts.toArray()));
    assertTrue(e.getMessage().contains("deeper"), e.getMessage());
  }

  @Test
  void restoreOfHostileNarWritesNothingAnywhere() throws IOException {
    Path box = Files.createDirectory(tmp.resolve("box"));
    Path outside = tmp.resolve("outside");
    for (Object bad : new Object[] {"..", "../outside", "/tmp/x", "a/../../outside"}) {
      byte[] nar = of(dirWith(fileEntry("a", "ok"), fileEntry(bad, "pwned")));
      Path target = box.resolve("t");
      assertThrows(
          NarFormatException.class,
          () -> NarRestore.restore(new ByteArrayInputStream(nar), target));
      assertFalse(Files.exists(target));
      assertFalse(Files.exists(outside));
      try (Stream<Path> s = Files.list(box)) {
        assertEquals(List.of(), s.toList());
      }
    }
  }

  @Test
  void unreadContentsAreConsumedAndOffsetsReported() throws IOException {
    byte[] nar = smallNar();
    NarListing l = NarListing.read(new ByteArrayInputStream(nar));
    assertEquals(nar.length, l.narSize());
    NarListing.Entry a = l.entries().get(1);
    assertEquals("a", a.path().toString());
    byte[] at =
        java.util.Arrays.copyOfRange(nar, (int) a.contentsOffset(), (int) a.contentsOffset() + 5);
    assertArrayEquals("hello".getBytes(), at);
  }

  private static void assertFalseThrows(byte[] nar) {
    try {
      NarReader.read(new ByteArrayInputStream(nar), SINK);
    } catch (IOException e) {
      throw new AssertionError("valid NAR rejected: " + e.getMessage(), e);
    }
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
