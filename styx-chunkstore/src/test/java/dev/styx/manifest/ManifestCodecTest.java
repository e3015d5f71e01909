package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ManifestCodecTest {
  static Manifest sample() throws Exception {
    ManifestBuilder b = new ManifestBuilder(ManifestBuilder.hashingSink());
    Random r = new Random(1);
    byte[] big = new byte[200_000];
    r.nextBytes(big);
    byte[] exact = new byte[65536 * 2];
    r.nextBytes(exact);
    b.directory("/");
    b.directory("/bin");
    b.regularFile("/bin/hello", true, big.length, new ByteArrayInputStream(big));
    b.symlink("/bin/hi", "hello");
    b.regularFile("/empty", false, 0, new ByteArrayInputStream(new byte[0]));
    b.regularFile("/exact", false, exact.length, new ByteArrayInputStream(exact));
    b.directory("/share");
    b.regularFile("/share/small", false, 224, new ByteArrayInputStream(new byte[224]));
    b.regularFile("/share/\u00fcber", false, 225, new ByteArrayInputStream(new byte[225]));
    return b.build(
        TestManifests.STORE_PATH,
        TestManifests.NAR_HASH,
        999,
        List.of(
            "0123456789abcdfghijklmnpqrsvwxyz-test-1.0",
            "11111111111111111111111111111111-glibc-2.40"));
  }

  @Test
  void roundTripsAllEntryKinds() throws Exception {
    Manifest m = sample();
    byte[] enc = ManifestCodec.encode(m);
    Manifest back = ManifestCodec.decode(enc);
    assertEquals(m, back);
    assertArrayEquals(enc, ManifestCodec.encode(back));
    assertEquals(9, back.entries().size());
    var hello = (ManifestEntry.ChunkedFile) back.entries().get(2);
    assertTrue(hello.executable());
    assertEquals(ChunkPolicy.SHIFT_64K, hello.chunkShift());
    assertEquals(4, hello.digests().size());
    assertEquals(200_000 - 3 * 65536, hello.chunkLength(3));
    var exact = (ManifestEntry.ChunkedFile) back.entries().get(5);
    assertEquals(2, exact.digests().size());
    assertEquals(65536, exact.chunkLength(1), "last chunk of an exact multiple is full, not 0");
    assertTrue(back.entries().get(7) instanceof ManifestEntry.InlineFile f && f.size() == 224);
    assertTrue(back.entries().get(8) instanceof ManifestEntry.ChunkedFile);
    assertEquals(200_000 + 65536 * 2 + 224 + 225, back.fileBytes());
  }

  @Test
  void rejectsNonCanonicalAndTruncated() throws Exception {
    byte[] enc = ManifestCodec.encode(sample());
    for (int cut : new int[] {0, 1, 10, enc.length / 2, enc.length - 1}) {
      byte[] t = java.util.Arrays.copyOf(enc, cut);
      assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(t), "cut at " + cut);
    }
    byte[] extra = java.util.Arrays.copyOf(enc, enc.length + 1);
    assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(extra));
  }

  @Test
  void everySingleByteCorruptionIsRejectedOrDecodesDifferently() throws Exception {
    byte[] enc = ManifestCodec.encode(sample());
    Manifest orig = ManifestCodec.decode(enc);
    Random r = new Random(7);
    int rejected = 0;
    for (int i = 0; i < 3000; i++) {
      byte[] c = enc.clone();
      int pos = r.nextInt(c.length);
      c[pos] ^= (byte) (1 + r.nextInt(255));
      try {
        Manifest m = ManifestCodec.decode(c);
        // Accepted only if it still is a canonical, different manifest (e.g. a changed digest
        // byte).
        assertTrue(!m.equals(orig));
        assertArrayEquals(c, ManifestCodec.encode(m));
      } catch (ManifestFormatException e) {
        rejected++;
      } catch (RuntimeException e) {
        fail("corruption at " + pos + " threw " + e, e);
      }
    }
    assertTrue(rejected > 300, "most header/structure corruptions must be rejected: " + rejected);
  }

  @Test
  void rejectsHostileAndMisorderedEntries() {
    List<ManifestEntry> ok = new ArrayList<>();
    ok.add(new ManifestEntry.Directory("/"));
    for (String bad : new String[] {"/..", "/.", "/a/../b", "/a//b", "//", "/a\0b", "a", "/a/"}) {
      assertThrows(IllegalArgumentException.class, () -> new ManifestEntry.Directory(bad), bad);
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> manifest(List.of(dir("/"), dir("/b"), dir("/a"))),
        "siblings out of order");
    assertThrows(
        IllegalArgumentException.class,
        () -> manifest(List.of(dir("/"), dir("/a"), dir("/a"))),
        "duplicate");
    assertThrows(
        IllegalArgumentException.class,
        () -> manifest(List.of(dir("/"), dir("/a/b"))),
        "child without parent");
    assertThrows(
        IllegalArgumentException.class,
        () -> manifest(List.of(dir("/"), dir("/a"), dir("/b"), dir("/a/c"))),
        "re-entering a closed directory");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            manifest(
                List.of(
                    dir("/"),
                    new ManifestEntry.Symlink("/l", "x"),
                    new ManifestEntry.Directory("/l/x"))),
        "child of a symlink");
    assertThrows(
        IllegalArgumentException.class,
        () -> new ManifestEntry.InlineFile("/f", false, new byte[225]));
    ChunkDigest d = ChunkDigest.of(new byte[1]);
    assertThrows(
        IllegalArgumentException.class,
        () -> new ManifestEntry.ChunkedFile("/f", false, 70_000, 16, List.of(d)),
        "needs 2 digests");
    assertThrows(
        IllegalArgumentException.class,
        () -> new ManifestEntry.ChunkedFile("/f", false, 70_000, 40, List.of(d)),
        "shift out of range");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new Manifest(
                "/nix/store/short-x", TestManifests.NAR_HASH, 1, List.of(), List.of(dir("/"))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new Manifest(TestManifests.STORE_PATH, "sha256:abc", 1, List.of(), List.of(dir("/"))));
    // A single regular file as root is a valid NAR.
    manifest(List.of(new ManifestEntry.InlineFile("/", false, new byte[3])));
  }

  @Test
  void rejectsWrongVersionAndTag() throws Exception {
    byte[] enc = ManifestCodec.encode(sample());
    // "v": 1 is encoded as 0x61 'v' 0x01.
    int at = indexOf(enc, new byte[] {0x61, 'v', 0x01});
    byte[] v2 = enc.clone();
    v2[at + 2] = 0x02;
    var e = assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(v2));
    assertTrue(e.getMessage().contains("version 2"), e.getMessage());
    byte[] signed =
        new SignedManifest(enc, List.of(new dev.styx.sig.NixSignature("k", new byte[64]))).encode();
    assertThrows(ManifestFormatException.class, () -> ManifestCodec.decode(signed));
  }

  static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  private static ManifestEntry dir(String p) {
    return new ManifestEntry.Directory(p);
  }

  private static Manifest manifest(List<ManifestEntry> es) {
    return new Manifest(TestManifests.STORE_PATH, TestManifests.NAR_HASH, 1, List.of(), es);
  }
}
