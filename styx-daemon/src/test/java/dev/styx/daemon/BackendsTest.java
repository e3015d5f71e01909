package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Backend;
import dev.styx.kernel.EagerBackend;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend auto} on this machine (kernel 6.18, no /dev/cachefiles, slabs on ext4): fanotify
 * when an fd store is given, eager without one unless explicitly allowed; a plain fanotify backend
 * refuses to start without an fd store.
 */
class BackendsTest {
  @TempDir Path tmp;

  private DaemonConfig config(String backend, Path holder, boolean allowNoStore) {
    return new DaemonConfig(
            tmp.resolve("cache"),
            tmp.resolve("cache/styx.sock"),
            "rw-------",
            backend,
            Duration.ofMinutes(1),
            4)
        .withLazy(holder, allowNoStore, Duration.ofSeconds(5), Duration.ofSeconds(5));
  }

  @Test
  void autoPicksFanotifyOnlyWithAnFdStore() throws Exception {
    Tiers.requireRoot();
    if (System.getenv("NOTIFY_SOCKET") != null) {
      return; // under systemd the store always exists; the no-store case cannot be shown here
    }
    assertTrue(FanotifyBackend.probe(tmp).isEmpty(), "this kernel supports pre-content events");
    try (Backend b = Backends.create(config("auto", null, false))) {
      assertInstanceOf(EagerBackend.class, b);
    }
    try (Backend b = Backends.create(config("auto", null, true))) {
      assertInstanceOf(FanotifyBackend.class, b);
    }
    try (FanotifyDaemonTest.Holder h = new FanotifyDaemonTest.Holder(tmp.resolve("h.sock"));
        Backend b = Backends.create(config("auto", h.socket, false))) {
      assertInstanceOf(FanotifyBackend.class, b);
      assertTrue(((FanotifyBackend) b).fdStoreDescription().orElseThrow().contains("h.sock"));
    }
    try (Backend b = Backends.create(config("fanotify", null, false))) {
      IOException e = assertThrows(IOException.class, () -> b.start((s, o, l) -> {}));
      assertTrue(e.getMessage().contains("fd store"), e.getMessage());
    }
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class, () -> Backends.create(config("fuse", null, false)));
    assertEquals(
        "unknown backend 'fuse' (use auto, eager, fanotify or cachefiles)", bad.getMessage());
  }
}
