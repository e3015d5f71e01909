package dev.styx.kernel.cachefiles;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the backend says on the build machine's kernel (the VM tier covers the working path): a
 * kernel without cachefiles gets a one-line reason from the probe and from start; a kernel with it
 * refuses a second opener of the devnode with a clear message.
 */
class CachefilesBackendHostTest {
  @TempDir Path tmp;

  @Test
  void explainsWhyItCannotRunHere() throws Exception {
    CachefilesOptions opts = CachefilesOptions.defaults(tmp.resolve("cache"));
    if (!Files.exists(CachefilesDevice.PATH)) {
      Optional<String> reason = CachefilesBackend.probe(tmp, null);
      assertTrue(reason.orElse("").contains("/dev/cachefiles"), reason.toString());
      IOException e =
          assertThrows(
              IOException.class, () -> new CachefilesBackend(opts, null).start((s, o, l) -> {}));
      assertTrue(e.getMessage().contains("CONFIG_CACHEFILES"), e.getMessage());
      return;
    }
    dev.styx.testing.Tiers.requireRoot();
    int fd = Syscalls.open(CachefilesDevice.PATH, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
    try {
      IOException e =
          assertThrows(
              IOException.class, () -> CachefilesDevice.openAndBind(tmp.resolve("c"), "t"));
      assertTrue(e.getMessage().contains("already open"), e.getMessage());
    } finally {
      Syscalls.close(fd);
    }
  }

  @Test
  void rejectsOptionsThatWouldBreakDevnodeCommandsOrMountOptions() {
    for (String bad : new String[] {"a,b", "a b", "", "x\ny", "a=b"}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> CachefilesOptions.defaults(tmp).withDomain(bad),
          "accepted domain " + bad);
    }
    assertThrows(
        IllegalArgumentException.class, () -> CachefilesOptions.defaults(tmp).withReadAheadKb(-1));
  }
}
