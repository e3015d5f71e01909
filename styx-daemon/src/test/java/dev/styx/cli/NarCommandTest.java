package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.GeneratedTree;
import dev.styx.testing.Tiers;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code styx nar ...} in-process against real Nix output. */
class NarCommandTest {
  @TempDir Path tmp;

  static byte[] nixDump(Path p) throws Exception {
    Process pr = new ProcessBuilder("nix-store", "--dump", p.toString()).start();
    byte[] b = pr.getInputStream().readAllBytes();
    assertEquals(0, pr.waitFor());
    return b;
  }

  static String nixHash(Path p) throws Exception {
    return "sha256:"
        + Tiers.run(null, "nix-hash", "--type", "sha256", "--base32", p.toString()).trim();
  }

  @Test
  void dumpEqualsNixStoreDump() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    CliRun r = CliRun.run(null, "nar", "dump", tree.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertArrayEquals(nixDump(tree), r.stdout());
  }

  @Test
  void dumpOfAJdkStreamsTheSameBytesAsNix() throws Exception {
    Tiers.requireNix();
    Path jdk = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    CliRun r =
        CliRun.run(
            null,
            new DigestOutputStream(java.io.OutputStream.nullOutputStream(), md),
            "nar",
            "dump",
            jdk.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    Process pr = new ProcessBuilder("nix-store", "--dump", jdk.toString()).start();
    MessageDigest nixMd = MessageDigest.getInstance("SHA-256");
    try (var in = pr.getInputStream()) {
      byte[] buf = new byte[1 << 20];
      int n;
      while ((n = in.read(buf)) > 0) {
        nixMd.update(buf, 0, n);
      }
    }
    assertEquals(0, pr.waitFor());
    assertEquals(HexFormat.of().formatHex(nixMd.digest()), HexFormat.of().formatHex(md.digest()));
  }

  @Test
  void hashEqualsNixHash() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    for (Path p :
        new Path[] {
          tree, tree.resolve("blob.bin"), tree.resolve("dangling"), Path.of("/usr/share/doc")
        }) {
      CliRun r = CliRun.run(null, "nar", "hash", p.toString());
      assertEquals(0, r.exitCode(), r.stderr());
      assertEquals(nixHash(p) + "\n", r.out(), "for " + p);
    }
  }

  @Test
  void restoreFromStdinRoundTrips() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    byte[] nar = nixDump(tree);
    Path out = tmp.resolve("out");
    CliRun r = CliRun.run(nar, "nar", "restore", out.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertArrayEquals(nar, nixDump(out));
    // A second restore refuses to overwrite.
    CliRun again = CliRun.run(nar, "nar", "restore", out.toString());
    assertEquals(1, again.exitCode());
    assertTrue(again.stderr().contains("already exists"), again.stderr());
    // A corrupt NAR leaves nothing behind and names the offset.
    byte[] bad = nar.clone();
    bad[22] = 1;
    CliRun broken = CliRun.run(bad, "nar", "restore", tmp.resolve("bad").toString());
    assertEquals(1, broken.exitCode());
    assertTrue(broken.stderr().contains("offset 22"), broken.stderr());
    assertFalse(Files.exists(tmp.resolve("bad")));
  }

  @Test
  void lsMatchesNixNarLs() throws Exception {
    Tiers.requireNix();
    Path tree = GeneratedTree.create(tmp.resolve("tree"));
    Path narFile = Files.write(tmp.resolve("tree.nar"), nixDump(tree));
    String expected =
        Tiers.run(
            null,
            "nix",
            "--extra-experimental-features",
            "nix-command",
            "nar",
            "ls",
            "-lR",
            narFile.toString(),
            "/");
    CliRun r = CliRun.run(null, "nar", "ls", narFile.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(expected, r.out());
    CliRun fromStdin = CliRun.run(Files.readAllBytes(narFile), "nar", "ls", "-");
    assertEquals(expected, fromStdin.out());
  }

  @Test
  void errorsAreOneClearLine() {
    CliRun r = CliRun.run(null, "nar", "dump", "/does/not/exist");
    assertEquals(1, r.exitCode());
    assertEquals("styx nar dump: /does/not/exist: no such file or directory\n", r.stderr());
    CliRun ls = CliRun.run(new byte[] {1, 2, 3}, "nar", "ls", "-");
    assertEquals(1, ls.exitCode());
    assertTrue(ls.stderr().contains("not a NAR"), ls.stderr());
    assertEquals(1, ls.stderr().strip().lines().count(), ls.stderr());
  }

  @Test
  void helpExplains() {
    CliRun r = CliRun.run(null, "nar", "--help");
    // picocli prints usage to System.out for --help.
    assertEquals(0, r.exitCode());
    ByteArrayOutputStream unused = new ByteArrayOutputStream();
    assertTrue(r.out().contains("dump") && r.out().contains("restore"), r.out() + unused);
  }
}
