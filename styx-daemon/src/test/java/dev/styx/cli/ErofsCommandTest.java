package dev.styx.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Syscalls;
import dev.styx.testing.GeneratedTree;
import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code styx erofs build|ls}: the image mounts and {@code styx nar dump} of it equals Nix's NAR.
 */
class ErofsCommandTest {
  @TempDir Path tmp;

  @Test
  void buildMountDumpAndLs() throws Exception {
    Tiers.requireRoot();
    Tiers.requireNix();
    Path src = GeneratedTree.create(tmp.resolve("tree"));
    Path slab = tmp.resolve("slab");
    Path image = tmp.resolve("tree.erofs");
    CliRun r =
        CliRun.run(
            null,
            "erofs",
            "build",
            "--slab",
            slab.toString(),
            "--out",
            image.toString(),
            src.toString());
    assertEquals(0, r.exitCode(), r.stderr());
    assertTrue(r.out().contains("0 already present"), r.out());
    assertTrue(Files.exists(Path.of(slab + ".index")));

    // Rebuilding the same tree into the slab adds nothing.
    long slabSize = Files.size(slab);
    CliRun again =
        CliRun.run(
            null,
            "erofs",
            "build",
            "--slab",
            slab.toString(),
            "--out",
            tmp.resolve("again.erofs").toString(),
            src.toString());
    assertEquals(0, again.exitCode(), again.stderr());
    assertTrue(again.out().contains(" 0 chunks added"), again.out());
    assertEquals(slabSize, Files.size(slab));

    CliRun ls = CliRun.run(null, "erofs", "ls", image.toString());
    assertEquals(0, ls.exitCode(), ls.stderr());
    assertTrue(ls.out().contains("-r-xr-xr-x"), ls.out());
    assertTrue(ls.out().contains("/link-to-dir -> bin"), ls.out());
    assertTrue(ls.out().contains(" x 64K"), ls.out());
    assertTrue(ls.out().contains("inline"), ls.out());

    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Syscalls.mount(image.toString(), mnt, "erofs", Syscalls.MS_RDONLY, "device=" + slab);
    try {
      CliRun dump = CliRun.run(null, "nar", "dump", mnt.toString());
      assertEquals(0, dump.exitCode(), dump.stderr());
      assertArrayEquals(NarCommandTest.nixDump(src), dump.stdout());
    } finally {
      Syscalls.umount(mnt, Syscalls.MNT_DETACH);
    }
  }

  @Test
  void errorsAreOneClearLine() throws Exception {
    Path notImage = Files.write(tmp.resolve("junk"), new byte[8192]);
    CliRun ls = CliRun.run(null, "erofs", "ls", notImage.toString());
    assertEquals(1, ls.exitCode());
    assertTrue(ls.stderr().contains("bad superblock magic"), ls.stderr());
    assertEquals(1, ls.stderr().strip().lines().count(), ls.stderr());
    CliRun b =
        CliRun.run(
            null,
            "erofs",
            "build",
            "--slab",
            tmp.resolve("s").toString(),
            "--out",
            tmp.resolve("i").toString(),
            tmp.resolve("missing").toString());
    assertEquals(1, b.exitCode());
    assertTrue(b.stderr().contains("not a directory"), b.stderr());
  }
}
