package dev.styx.kernel.cachefiles;

import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Checks the whole on-demand path for real, since the kernel config is usually not readable: binds
 * an on-demand cache in {@code <dir>/.probe}, then mounts an EROFS with {@code fsid=} from another
 * thread and answers its OPEN with ENOENT. Seeing that OPEN proves cachefiles on-demand mode and
 * on-demand EROFS; an EROFS without it rejects {@code fsid=} with EINVAL before any OPEN.
 */
final class CachefilesProbe {
  private static final String PROBE = "styx-probe";

  private CachefilesProbe() {}

  static Optional<String> run(Path dir) {
    if (!Files.exists(CachefilesDevice.PATH)) {
      return Optional.of(
          "no " + CachefilesDevice.PATH + ": kernel built without CONFIG_CACHEFILES");
    }
    try {
      if (!Files.readString(Path.of("/proc/filesystems")).contains("\terofs")) {
        return Optional.of("kernel has no EROFS (CONFIG_EROFS_FS)");
      }
    } catch (IOException e) {
      return Optional.of("cannot read /proc/filesystems: " + e.getMessage());
    }
    Path cache = dir.resolve(".probe");
    Path mnt = dir.resolve(".probe-mnt");
    CachefilesDevice d;
    try {
      Files.createDirectories(cache);
      Files.createDirectories(mnt);
      d = CachefilesDevice.openAndBind(cache, PROBE);
    } catch (IOException e) {
      deleteTree(cache);
      deleteTree(mnt);
      return Optional.of(e.getMessage());
    }
    CompletableFuture<SyscallException> mount = new CompletableFuture<>();
    // mount(2) blocks until its OPEN is answered, which this thread does.
    Thread t =
        Thread.ofPlatform()
            .daemon()
            .name("cachefiles-probe-mount")
            .start(
                () -> {
                  try {
                    Syscalls.mount(
                        "none",
                        mnt,
                        "erofs",
                        Syscalls.MS_RDONLY,
                        "fsid=" + PROBE + ",domain_id=" + PROBE);
                    mount.complete(null);
                  } catch (SyscallException e) {
                    mount.complete(e);
                  }
                });
    boolean sawOpen = false;
    try {
      ByteBuffer buf = ByteBuffer.allocateDirect(CachefilesMessage.MAX_SIZE);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!mount.isDone() && System.nanoTime() < until) {
        Optional<CachefilesMessage> m = d.next(buf, 100);
        if (m.isPresent() && m.get() instanceof CachefilesMessage.Open o) {
          sawOpen = true;
          d.copen(o.msgId(), -CachefilesDevice.ENOENT);
          CachefilesBackend.closeQuietly(o.fd());
        }
      }
    } catch (IOException | RuntimeException e) {
      return Optional.of("cachefiles probe failed: " + e.getMessage());
    } finally {
      d.closeQuietly();
      try {
        t.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (mount.isDone() && mount.join() == null) {
        try {
          Syscalls.umount(mnt, Syscalls.MNT_DETACH);
        } catch (SyscallException e) {
          // Nothing mounted after all.
        }
      }
      deleteTree(cache);
      deleteTree(mnt);
    }
    if (sawOpen) {
      return Optional.empty();
    }
    if (!mount.isDone()) {
      return Optional.of("on-demand EROFS mount probe got no OPEN request within 10 s");
    }
    SyscallException e = mount.join();
    if (e != null && e.errno() == CachefilesDevice.EINVAL) {
      return Optional.of("EROFS rejects fsid= (kernel built without CONFIG_EROFS_FS_ONDEMAND)");
    }
    return Optional.of(
        "on-demand EROFS probe mount failed: " + (e == null ? "no OPEN" : e.getMessage()));
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
    } catch (IOException e) {
      // Best effort: a leftover probe directory is harmless.
    }
  }
}
