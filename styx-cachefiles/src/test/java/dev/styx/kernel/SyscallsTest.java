package dev.styx.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyscallsTest {
  @TempDir Path tmp;

  @Test
  void unnamedFileIsInvisibleUntilLinkedAndLinksOnlyOnce() throws Exception {
    int fd = Syscalls.open(tmp, Syscalls.O_TMPFILE | Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0644);
    byte[] data = new byte[100_000];
    new java.util.Random(3).nextBytes(data);
    Path dest = tmp.resolve("chunk");
    try {
      // An offset write exercises the copy path of writeFully as well.
      Syscalls.writeFully(fd, data, 0, 60_000);
      Syscalls.writeFully(fd, data, 60_000, 40_000);
      try (Stream<Path> s = Files.list(tmp)) {
        assertEquals(0, s.count(), "an O_TMPFILE file has no name before linkat");
      }
      Syscalls.linkTmpFile(fd, dest);
      assertArrayEquals(data, Files.readAllBytes(dest));
      SyscallException again =
          assertThrows(SyscallException.class, () -> Syscalls.linkTmpFile(fd, dest));
      assertEquals(Syscalls.EEXIST, again.errno(), again.getMessage());
      assertTrue(again.getMessage().contains(dest.toString()), again.getMessage());
    } finally {
      Syscalls.close(fd);
    }
    assertArrayEquals(data, Files.readAllBytes(dest), "closing keeps the linked file");
  }

  @Test
  void unlinkedUnnamedFileLeavesNothingBehind() throws Exception {
    int fd = Syscalls.open(tmp, Syscalls.O_TMPFILE | Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0644);
    Syscalls.writeFully(fd, new byte[4096], 0, 4096);
    Syscalls.close(fd);
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(0, s.count());
    }
    assertThrows(
        IndexOutOfBoundsException.class, () -> Syscalls.writeFully(0, new byte[10], 5, 10));
  }

  @Test
  void procSelfFdLinksAnUnnamedFileWithoutPrivileges() throws Exception {
    // The fallback of linkTmpFile when AT_EMPTY_PATH is refused (no CAP_DAC_READ_SEARCH): root
    // never takes it, so the call it makes is checked here directly.
    int fd = Syscalls.open(tmp, Syscalls.O_TMPFILE | Syscalls.O_WRONLY | Syscalls.O_CLOEXEC, 0644);
    try {
      Syscalls.writeFully(fd, new byte[] {1, 2, 3}, 0, 3);
      Path dest = tmp.resolve("via-proc");
      int r =
          Syscalls.libc()
              .linkat(
                  Syscalls.AT_FDCWD,
                  "/proc/self/fd/" + fd,
                  Syscalls.AT_FDCWD,
                  dest.toString(),
                  Syscalls.AT_SYMLINK_FOLLOW);
      assertEquals(0, r, "linkat via /proc/self/fd, errno " + Syscalls.errno());
      assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(dest));
    } finally {
      Syscalls.close(fd);
    }
  }
}
