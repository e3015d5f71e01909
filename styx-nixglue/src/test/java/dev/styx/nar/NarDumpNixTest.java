package dev.styx.nar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.GeneratedTree;
import dev.styx.testing.Tiers;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated tree against the real {@code nix-store --dump}, {@code nix-hash} and restore. */
public class NarDumpNixTest {
  @TempDir Path tmp;

  /** nix-store --dump of a path, for other tests. */
  public static byte[] nixDumpPublic(Path p) throws Exception {
    return nixDump(p);
  }

  static byte[] nixDump(Path p) throws Exception {
    Path out = Files.createTempFile("nix-dump", ".nar");
    try {
      Process pr =
          new ProcessBuilder("nix-store", "--dump", p.toString())
              .redirectOutput(out.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      assertEquals(0, pr.waitFor(), "nix-store --dump " + p);
      return Files.readAllBytes(out);
    } finally {
      Files.delete(out);
    }
  }

  static byte[] styxDump(Path p) throws Exception {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    long n = NarDump.dump(p, bo);
    assertEquals(bo.size(), n);
    return bo.toByteArray();
  }

  @Test
  void generatedTreeIsByteExactWithNix() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] expected = nixDump(tree);
    byte[] actual = styxDump(tree);
    assertEquals(expected.length, actual.length);
    assertArrayEquals(expected, actual);

    String nixHash =
        Tiers.run(null, "nix-hash", "--type", "sha256", "--base32", tree.toString()).trim();
    assertEquals("sha256:" + nixHash, NarDump.hash(tree).narHash().toNix32String());
    assertEquals(expected.length, NarDump.hash(tree).narSize());
  }

  @Test
  void restoreOfDumpDumpsIdentically() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] nar = styxDump(tree);
    Path out = tmp.resolve("restored");
    NarRestore.restore(new ByteArrayInputStream(nar), out);
    assertArrayEquals(nar, nixDump(out));
    // Nix's restore of the same NAR agrees with ours.
    Path nixOut = tmp.resolve("nix-restored");
    Process pr =
        new ProcessBuilder("nix-store", "--restore", nixOut.toString())
            .redirectInput(writeTemp(nar).toFile())
            .start();
    assertEquals(0, pr.waitFor());
    assertArrayEquals(nar, styxDump(nixOut));
    assertEquals(
        Files.readSymbolicLink(nixOut.resolve("trailing-slash")).toString(),
        Files.readSymbolicLink(out.resolve("trailing-slash")).toString());
  }

  @Test
  void dumpToAFileUsesTheKernelCopyPathAndStaysExact() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    Path out = tmp.resolve("out.nar");
    try (java.io.FileOutputStream fo = new java.io.FileOutputStream(out.toFile())) {
      fo.write(new byte[] {1, 2, 3}); // the NAR must land after what the stream already holds
      NarDump.dump(tree, fo);
    }
    byte[] all = Files.readAllBytes(out);
    assertArrayEquals(nixDump(tree), java.util.Arrays.copyOfRange(all, 3, all.length));
  }

  @Test
  void singleFileAndSymlinkRoots() throws Exception {
    Tiers.requireNix();
    Path f = Files.writeString(tmp.resolve("f"), "x");
    Files.setPosixFilePermissions(
        f, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    assertArrayEquals(nixDump(f), styxDump(f));
    Path l = Files.createSymbolicLink(tmp.resolve("l"), Path.of("target/"));
    assertArrayEquals(nixDump(l), styxDump(l));
    Path e = Files.write(tmp.resolve("e"), new byte[0]);
    assertArrayEquals(nixDump(e), styxDump(e));
  }

  @Test
  void reserializingANarIsIdentity() throws Exception {
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] nar = styxDump(tree);
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (NarWriter w = new NarWriter(bo)) {
      assertEquals(nar.length, NarReader.read(new ByteArrayInputStream(nar), w));
    }
    assertArrayEquals(nar, bo.toByteArray());
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    assertEquals(
        HexFormat.of().formatHex(md.digest(nar)),
        HexFormat.of().formatHex(NarDump.hash(tree).narHash().bytes()));
  }

  @Test
  void nonUtf8NamesFailClearlyInsteadOfBeingMangled() throws Exception {
    Path d = Files.createDirectory(tmp.resolve("d"));
    Tiers.run(d, "bash", "-c", "touch $'bad\\xff'");
    java.io.IOException e = assertThrows(java.io.IOException.class, () -> NarDump.hash(d));
    assertTrue(e.getMessage().contains("cannot represent"), e.getMessage());
    // A NAR holding such a name parses, but restoring it is refused, leaving nothing behind.
    byte[] nar =
        NarBytes.of(
            NarBytes.dirWith(NarBytes.fileEntry(new byte[] {'b', 'a', 'd', (byte) 0xff}, "x")));
    assertEquals(
        nar.length, NarReader.read(new ByteArrayInputStream(nar), NarReaderHostileTest.SINK));
    java.io.IOException r =
        assertThrows(
            java.io.IOException.class,
            () -> NarRestore.restore(new ByteArrayInputStream(nar), tmp.resolve("r")));
    assertTrue(r.getMessage().contains("not valid UTF-8"), r.getMessage());
    assertTrue(!Files.exists(tmp.resolve("r")));
  }

  @Test
  void restoreRefusesExistingTarget() throws Exception {
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] nar = styxDump(tree);
    Files.createDirectory(tmp.resolve("exists"));
    assertThrows(
        java.io.IOException.class,
        () -> NarRestore.restore(new ByteArrayInputStream(nar), tmp.resolve("exists")));
  }

  private Path writeTemp(byte[] b) throws Exception {
    return Files.write(Files.createTempFile(tmp, "nar", ".nar"), b);
  }
}
