package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** The writer refuses trees the kernel or Nix cannot hold, naming the offending path. */
class WriterValidationTest {
  static final List<ErofsDevice> ONE_SLAB = List.of(new ErofsDevice("slab-0", 1L << 28));

  static ErofsNode.Directory dir(Object... nameNode) {
    List<ErofsNode.Entry> es = new ArrayList<>();
    for (int i = 0; i < nameNode.length; i += 2) {
      es.add(new ErofsNode.Entry((String) nameNode[i], (ErofsNode) nameNode[i + 1]));
    }
    return new ErofsNode.Directory(es);
  }

  static ErofsNode file(String s) {
    return ErofsNode.InlineFile.of(s, false);
  }

  static InvalidTreeException rejects(ErofsNode.Directory root) {
    return assertThrows(
        InvalidTreeException.class, () -> ErofsWriter.write(new ErofsImage(root, ONE_SLAB)));
  }

  @Test
  void rejectsDuplicateNames() {
    InvalidTreeException e = rejects(dir("sub", dir("a", file("1"), "a", file("2"))));
    assertEquals("/sub/a", e.path());
    assertTrue(e.getMessage().contains("duplicate"), e.getMessage());
  }

  @Test
  void rejectsSlashNulEmptyDotAndDotDot() {
    assertTrue(rejects(dir("d", dir("a/b", file("x")))).getMessage().contains("'/'"));
    assertTrue(rejects(dir("a\0b", file("x"))).getMessage().contains("NUL"));
    assertTrue(rejects(dir("", file("x"))).getMessage().contains("empty name"));
    assertTrue(rejects(dir(".", file("x"))).getMessage().contains("reserved"));
    assertTrue(rejects(dir("..", file("x"))).getMessage().contains("reserved"));
    assertTrue(rejects(dir("bad\uD800", file("x"))).getMessage().contains("surrogate"));
  }

  @Test
  void nameLengthLimitIs255Utf8Bytes() {
    ErofsWriter.write(new ErofsImage(dir("n".repeat(255), file("x")), ONE_SLAB));
    InvalidTreeException e = rejects(dir("d", dir("n".repeat(256), file("x"))));
    assertEquals("/d/" + "n".repeat(256), e.path());
    assertTrue(e.getMessage().contains("256 bytes"), e.getMessage());
    // 128 two-byte characters: 128 chars but 256 bytes.
    assertTrue(rejects(dir("é".repeat(128), file("x"))).getMessage().contains("256 bytes"));
  }

  @Test
  void rejectsBadSymlinks() {
    ErofsWriter.write(new ErofsImage(dir("l", ErofsNode.Symlink.of("t".repeat(4095))), ONE_SLAB));
    assertTrue(
        rejects(dir("l", ErofsNode.Symlink.of("t".repeat(4096)))).getMessage().contains("4096"));
    assertTrue(rejects(dir("l", ErofsNode.Symlink.of(""))).getMessage().contains("empty"));
    assertTrue(rejects(dir("l", ErofsNode.Symlink.of("a\0b"))).getMessage().contains("NUL"));
  }

  @Test
  void rejectsInconsistentChunks() {
    ChunkLocation ok = new ChunkLocation(1, 100);
    // 65537 bytes at 64 KiB chunks need two chunk locations.
    InvalidTreeException e =
        rejects(dir("f", new ErofsNode.ChunkedFile(65537, 16, List.of(ok), false)));
    assertEquals("/f", e.path());
    assertTrue(e.getMessage().contains("need 2"), e.getMessage());
    assertTrue(
        rejects(
                dir(
                    "f",
                    new ErofsNode.ChunkedFile(10, 16, List.of(new ChunkLocation(2, 0)), false)))
            .getMessage()
            .contains("device 2"));
    assertTrue(
        rejects(
                dir(
                    "f",
                    new ErofsNode.ChunkedFile(10, 16, List.of(new ChunkLocation(0, 0)), false)))
            .getMessage()
            .contains("device 0"));
    assertTrue(
        rejects(
                dir(
                    "f",
                    new ErofsNode.ChunkedFile(
                        70_000, 16, List.of(ok, new ChunkLocation(1, (1L << 28) - 1)), false)))
            .getMessage()
            .contains("outside device 1"));
    assertTrue(
        rejects(dir("f", new ErofsNode.ChunkedFile(10, 11, List.of(ok), false)))
            .getMessage()
            .contains("chunk shift"));
  }

  @Test
  void rejectsTooManyDevices() {
    List<ErofsDevice> many = new ArrayList<>();
    for (int i = 0; i <= ErofsWriter.MAX_DEVICES; i++) {
      many.add(new ErofsDevice("s" + i, 1));
    }
    assertThrows(InvalidTreeException.class, () -> ErofsWriter.write(new ErofsImage(dir(), many)));
  }

  @Test
  void modelRejectsOversizedTagsAndVolumeNames() {
    assertThrows(IllegalArgumentException.class, () -> new ErofsDevice("t".repeat(65), 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ErofsImage(dir(), List.of(), null, "v".repeat(17)));
  }

  @Test
  void superblockChecksumIsKernelCrc32c() {
    byte[] img = ErofsWriter.write(new ErofsImage(dir("a", file("hello")), ONE_SLAB));
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xE0F5E1E2, b.getInt(1024));
    assertEquals(1, b.getInt(1024 + 8) & 1, "SB_CHKSUM set");
    assertEquals(0xC, b.getInt(1024 + 80), "CHUNKED_FILE | DEVICE_TABLE");
    int stored = b.getInt(1024 + 4);
    b.putInt(1024 + 4, 0);
    CRC32C c = new CRC32C();
    c.update(img, 1024, 3072);
    assertEquals(~(int) c.getValue(), stored);
    assertEquals(0, img.length % 4096);
  }

  @Test
  void noDirentUsesNidZeroAndDotEntriesAreSorted() throws Exception {
    List<ErofsNode.Entry> es = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      es.add(new ErofsNode.Entry("f" + i, file("x" + i)));
    }
    es.add(new ErofsNode.Entry("+plus", file("p")));
    es.add(new ErofsNode.Entry(".-dash", file("d")));
    byte[] img = ErofsWriter.write(new ErofsImage(new ErofsNode.Directory(es), ONE_SLAB));
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    int rootNid = b.getShort(1024 + 14) & 0xFFFF;
    assertNotEquals(0, rootNid);
    ErofsImage back = ErofsReader.read(img);
    assertEquals(502, back.root().entries().size());
    assertEquals("+plus", back.root().entries().get(0).name());
    assertEquals(".-dash", back.root().entries().get(1).name());
  }

  @Test
  void largeFilesUseExtendedInodesAndRoundTrip() throws Exception {
    long size = (5L << 30) + 123; // > 4 GiB: i_size needs the extended inode
    int shift = 20;
    long n = ErofsNode.ChunkedFile.chunkCount(size, shift);
    List<ChunkLocation> locs = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      locs.add(new ChunkLocation(1, i * 256));
    }
    ErofsNode.Directory root =
        dir("big", new ErofsNode.ChunkedFile(size, shift, locs, true), "small", file("s"));
    byte[] img = ErofsWriter.write(new ErofsImage(root, ONE_SLAB));
    assertEquals(new ErofsImage(root, ONE_SLAB), ErofsReader.read(img));
  }

  @Test
  void sameTreeGivesSameBytes() {
    ErofsNode.Directory root = dir("a", file("1"), "b", dir("c", ErofsNode.Symlink.of("../a")));
    assertTrue(
        java.util.Arrays.equals(
            ErofsWriter.write(new ErofsImage(root, ONE_SLAB)),
            ErofsWriter.write(new ErofsImage(root, ONE_SLAB))));
  }

  @Test
  void uuidVolumeNameAndDevicesRoundTrip() throws Exception {
    java.util.UUID u = java.util.UUID.fromString("01234567-89ab-cdef-0123-456789abcdef");
    List<ErofsDevice> devs =
        List.of(new ErofsDevice("slab-0", 1L << 28), new ErofsDevice("x".repeat(64), 0xFFFF_FFFFL));
    ErofsImage img = new ErofsImage(dir("a", file("1")), devs, u, "styx-0123456789");
    byte[] bytes = ErofsWriter.write(img);
    assertEquals(img, ErofsReader.read(bytes));
    assertEquals(0x01, bytes[1024 + 48] & 0xFF, "uuid stored in RFC 4122 byte order");
    assertEquals(0, bytes[1024 + 64 + 15], "volume name keeps its NUL terminator");
  }

  @Test
  void volumeNameMustLeaveRoomForTheNulTerminator() throws Exception {
    // Linux 6.12 refuses a 16-byte volume name with no NUL ("bad volume name without NIL
    // terminator"); 6.18 does not check, so only this test and the VM tier catch it.
    assertThrows(
        IllegalArgumentException.class,
        () -> new ErofsImage(dir("a", file("1")), ONE_SLAB, null, "styx-0123456789a"));
    byte[] bytes = ErofsWriter.write(new ErofsImage(dir("a", file("1")), ONE_SLAB));
    for (int i = 0; i < 16; i++) {
      bytes[1024 + 64 + i] = 'v';
    }
    ReaderFuzzTest.fixCrc(bytes);
    assertThrows(ErofsFormatException.class, () -> ErofsReader.read(bytes));
  }

  @Test
  void rejectsTreesDeeperThanTheReaderAccepts() {
    ErofsNode.Directory d = dir("leaf", file("x"));
    for (int i = 0; i < ErofsWriter.MAX_DEPTH - 1; i++) {
      d = dir("d", d);
    }
    // MAX_DEPTH directories below the root: written, and read back.
    ErofsImage deepest = new ErofsImage(dir("d", d), ONE_SLAB);
    try {
      assertEquals(deepest, ErofsReader.read(ErofsWriter.write(deepest)));
    } catch (ErofsFormatException ex) {
      throw new AssertionError(ex);
    }
    InvalidTreeException e = rejects(dir("d", dir("d", d)));
    assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
  }

  @Test
  void directoryWithMoreThan65535LinksUsesExtendedInode() throws Exception {
    List<ErofsNode.Entry> subs = new ArrayList<>();
    ErofsNode.Directory empty = dir();
    for (int i = 0; i < 65_534; i++) {
      subs.add(new ErofsNode.Entry("s" + i, empty));
    }
    ErofsNode.Directory root = new ErofsNode.Directory(subs);
    byte[] img = ErofsWriter.write(new ErofsImage(root, List.of()));
    ByteBuffer b = ByteBuffer.wrap(img).order(ByteOrder.LITTLE_ENDIAN);
    int rootOff = (b.getShort(1024 + 14) & 0xFFFF) * 32;
    assertEquals(1, b.getShort(rootOff) & 1, "root needs the extended inode: nlink 65536");
    assertEquals(65_536, b.getInt(rootOff + 44), "i_nlink");
    assertEquals(new ErofsImage(root, List.of()), ErofsReader.read(img));
  }

  @Test
  void directoryEqualityIsStructural() {
    ErofsNode.Directory a = dir("x", dir("y", file("1")), "z", ErofsNode.Symlink.of("t"));
    ErofsNode.Directory same = dir("z", ErofsNode.Symlink.of("t"), "x", dir("y", file("1")));
    ErofsNode.Directory leafDiffers = dir("x", dir("y", file("2")), "z", ErofsNode.Symlink.of("t"));
    ErofsNode.Directory kindDiffers = dir("x", file("y"), "z", ErofsNode.Symlink.of("t"));
    ErofsNode.Directory nameDiffers = dir("x", dir("w", file("1")), "z", ErofsNode.Symlink.of("t"));
    assertEquals(a, same);
    assertEquals(a.hashCode(), same.hashCode());
    assertNotEquals(a, leafDiffers);
    assertNotEquals(a, kindDiffers);
    assertNotEquals(a, nameDiffers);
    assertNotEquals(a.hashCode(), leafDiffers.hashCode());
  }
}
