package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.erofs.slab.DirectoryImporter;
import dev.styx.erofs.slab.SlabFileWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small trees written by {@link ErofsWriter}, mounted by the kernel and checked by fsck.erofs. */
class WriterMountTest {
  @TempDir Path tmp;

  static int policy(long size) {
    return size <= 16L << 20 ? 16 : size <= 64L << 20 ? 18 : 20;
  }

  @Test
  void smallTreeMountsAndMatchesSourceNar() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("bin"));
    Files.createDirectories(src.resolve("share/empty"));
    Files.writeString(src.resolve("hello.txt"), "hello styx\n");
    byte[] big = new byte[300_001];
    new Random(1).nextBytes(big);
    Files.write(src.resolve("share/big.bin"), big);
    Path exe = src.resolve("bin/run");
    Files.writeString(exe, "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("share/big.bin"));
    Files.write(src.resolve("empty"), new byte[0]);

    Path slabFile = tmp.resolve("slab");
    Path image = tmp.resolve("image.erofs");
    try (SlabFileWriter slab = SlabFileWriter.open(slabFile)) {
      DirectoryImporter imp = new DirectoryImporter(slab, 1, WriterMountTest::policy, 224);
      ErofsNode.Directory root = imp.importTree(src);
      Files.write(image, ErofsWriter.write(new ErofsImage(root, List.of(slab.device()))));
    }
    ImageChecks.assertMountMatches(image, List.of(slabFile), src, tmp.resolve("mnt"));
    ImageChecks.withMount(
        image,
        List.of(slabFile),
        tmp.resolve("mnt"),
        m -> {
          assertArrayEquals(big, Files.readAllBytes(m.resolve("share/big.bin")));
          assertEquals(
              "r-xr-xr-x",
              PosixFilePermissions.toString(Files.getPosixFilePermissions(m.resolve("bin/run"))));
          assertEquals(
              "r--r--r--",
              PosixFilePermissions.toString(Files.getPosixFilePermissions(m.resolve("hello.txt"))));
          assertEquals(1000L, Files.getLastModifiedTime(m.resolve("hello.txt")).toMillis());
        });
    ImageChecks.assertFsckExtractMatches(image, List.of(slabFile), src, tmp.resolve("x"));
  }
}
