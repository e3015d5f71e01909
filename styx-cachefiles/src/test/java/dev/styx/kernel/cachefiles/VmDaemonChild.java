package dev.styx.kernel.cachefiles;

import dev.styx.kernel.Backend;
import dev.styx.kernel.BlobCopyFiller;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.fdstore.FdStore;
import dev.styx.kernel.fdstore.HolderFdStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A daemon process for the VM tier's restart scenarios: runs the cachefiles backend with a {@link
 * BlobCopyFiller} until killed, and reports on stdout ({@code STARTED restored=<bool>}, {@code
 * MOUNTED}, {@code FILL <offset> <length>}) so the harness can SIGKILL it mid-fill.
 *
 * <p>Args: {@code --dir D --domain X --slab FILE --blob FILE --fill copy|hang [--holder SOCK]
 * [--image IMG --mount DIR]}.
 */
public final class VmDaemonChild {
  private VmDaemonChild() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      a.put(args[i], args[i + 1]);
    }
    FdStore store =
        a.containsKey("--holder") ? HolderFdStore.connect(Path.of(a.get("--holder"))) : null;
    CachefilesBackend backend =
        new CachefilesBackend(
            CachefilesOptions.defaults(Path.of(a.get("--dir"))).withDomain(a.get("--domain")),
            store);
    Path slab = Path.of(a.get("--slab"));
    int writeFd = Syscalls.open(slab, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
    BlobCopyFiller filler = new BlobCopyFiller(Path.of(a.get("--blob")), writeFd);
    filler.mode = BlobCopyFiller.Mode.valueOf(a.get("--fill").toUpperCase());
    filler.onRequest = r -> say("FILL " + r.offset() + " " + r.length());
    backend.start(filler);
    say("STARTED restored=" + backend.restored());
    Backend.Slab s = new Backend.Slab(0, slab, writeFd);
    backend.attachSlab(s);
    if (a.containsKey("--image")) {
      Path mnt = Path.of(a.get("--mount"));
      Files.createDirectories(mnt);
      backend.mount(Path.of(a.get("--image")), List.of(s), mnt);
      say("MOUNTED");
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    backend.close();
                  } catch (Exception e) {
                    System.err.println("close: " + e);
                  }
                }));
    Thread.sleep(Long.MAX_VALUE);
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
