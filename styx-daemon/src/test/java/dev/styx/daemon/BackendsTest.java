package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Backend;
import dev.styx.kernel.EagerBackend;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.cachefiles.CachefilesBackend;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.kernel.fdstore.FdStore;
import dev.styx.kernel.fdstore.HolderFdStore;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
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

  /**
   * After a cachefiles daemon dies, the holder keeps its devnode and /dev/cachefiles stays busy, so
   * a probe would fail: auto must take the held fd instead. This kernel has no /dev/cachefiles, so
   * auto picks fanotify until the real holder hands back an fd named "cachefiles" (a plain file
   * here: the backend is only chosen, not started; the VM tier restarts a real one).
   */
  @Test
  void autoPicksCachefilesWhenTheFdStoreHoldsItsDevnode() throws Exception {
    Tiers.requireRoot();
    try (FanotifyDaemonTest.Holder h = new FanotifyDaemonTest.Holder(tmp.resolve("h.sock"))) {
      try (Backend b = Backends.create(config("auto", h.socket, false))) {
        assertInstanceOf(FanotifyBackend.class, b, "nothing held: fanotify on this kernel");
      }
      Path stand = Files.writeString(tmp.resolve("devnode-stand-in"), "x");
      int fd = Syscalls.open(stand, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      try (HolderFdStore earlier = HolderFdStore.connect(h.socket)) {
        earlier.store(CachefilesBackend.DEVNODE_FD_NAME, fd);
      } finally {
        Syscalls.close(fd);
      }
      try (Backend b = Backends.create(config("auto", h.socket, false))) {
        assertInstanceOf(CachefilesBackend.class, b);
      }
      if (System.getenv("NOTIFY_SOCKET") == null && System.getenv("STYX_FD_HOLDER") == null) {
        try (Backend b = Backends.create(config("auto", null, false))) {
          assertInstanceOf(
              EagerBackend.class, b, "without the holder the held fd is not seen: no cachefiles");
        }
      }
    }
  }

  /** A daemon started together with its holder waits for the holder's socket instead of failing. */
  @Test
  void waitsForAHolderStartedAlongside() throws Exception {
    Tiers.requireRoot();
    Path sock = tmp.resolve("late.sock");
    CompletableFuture<FanotifyDaemonTest.Holder> late = new CompletableFuture<>();
    Thread starter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(700);
                    late.complete(new FanotifyDaemonTest.Holder(sock));
                  } catch (Exception e) {
                    late.completeExceptionally(e);
                  }
                });
    long t0 = System.nanoTime();
    try (FdStore store = Backends.connectHolder(sock)) {
      long waited = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(waited >= 600, "connected after " + waited + " ms, before the holder was bound");
      assertTrue(store.describe().contains("late.sock"), store.describe());
      assertTrue(store.untaken().isEmpty());
    } finally {
      starter.join();
      late.join().close();
    }
  }
}
