package dev.styx.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The eager backend against the real kernel: an image made by erofs-utils with its chunk data in a
 * separate blob file (the shape of a Styx image over one slab) mounts file-backed with the blob as
 * {@code device=}, and reads back the original bytes.
 */
class EagerBackendTest {
  @TempDir Path tmp;

  @Test
  void mountsChunkedImageWithBlobDeviceAndReadsData() throws Exception {
    Tiers.requireRoot();
    Tiers.requireCommand("mkfs.erofs");
    Path src = Files.createDirectories(tmp.resolve("src/sub"));
    byte[] big = new byte[300_000];
    new Random(5).nextBytes(big);
    Files.write(src.resolve("big.bin"), big);
    Files.writeString(src.resolve("small.txt"), "hello styx\n");
    Path image = tmp.resolve("meta.erofs");
    Path blob = tmp.resolve("slab-0");
    Tiers.run(
        tmp,
        "mkfs.erofs",
        "--chunksize=65536",
        "--blobdev=" + blob,
        image.toString(),
        tmp.resolve("src").toString());
    Path target = Files.createDirectories(tmp.resolve("mnt"));
    int fd = Syscalls.open(blob, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
    EagerBackend backend = new EagerBackend();
    try {
      backend.start((slab, off, len) -> {});
      Backend.Slab slab = new Backend.Slab(0, blob, fd);
      backend.attachSlab(slab);
      backend.mount(image, List.of(slab), target);
      try {
        assertArrayEquals(big, Files.readAllBytes(target.resolve("sub/big.bin")));
        assertEquals("hello styx\n", Files.readString(target.resolve("sub/small.txt")));
        assertThrows(Exception.class, () -> Files.writeString(target.resolve("x"), "no"));
      } finally {
        backend.unmount(target);
      }
      assertFalse(Files.exists(target.resolve("sub")), "unmounted");
    } finally {
      backend.close();
      Syscalls.close(fd);
    }
  }

  @Test
  void mountWithoutTheRightDeviceCountFailsWithErrno() throws Exception {
    Tiers.requireRoot();
    Tiers.requireCommand("mkfs.erofs");
    Path src = Files.createDirectories(tmp.resolve("src"));
    byte[] big = new byte[100_000];
    new Random(6).nextBytes(big);
    Files.write(src.resolve("big.bin"), big);
    Path image = tmp.resolve("meta.erofs");
    Path blob = tmp.resolve("slab-0");
    Tiers.run(tmp, "mkfs.erofs", "--chunksize=65536", "--blobdev=" + blob, image.toString(), "src");
    Path target = Files.createDirectories(tmp.resolve("mnt"));
    EagerBackend backend = new EagerBackend();
    backend.start((slab, off, len) -> {});
    Backend.Slab s = new Backend.Slab(0, blob, -1);
    SyscallException e =
        assertThrows(SyscallException.class, () -> backend.mount(image, List.of(s, s), target));
    assertEquals(true, e.getMessage().contains("mount("), e.getMessage());
  }

  @Test
  void slabPathsWithCommasAreRejected() {
    Backend.Slab s = new Backend.Slab(0, Path.of("/tmp/a,b/slab-0"), -1);
    assertThrows(IllegalArgumentException.class, () -> FileBackedMount.options(List.of(s)));
    assertEquals(
        "device=/x/slab-0,device=/x/slab-1",
        FileBackedMount.options(
            List.of(
                new Backend.Slab(0, Path.of("/x/slab-0"), -1),
                new Backend.Slab(1, Path.of("/x/slab-1"), -1))));
  }
}
