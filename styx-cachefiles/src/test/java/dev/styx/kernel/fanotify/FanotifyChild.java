package dev.styx.kernel.fanotify;

import dev.styx.kernel.Backend;
import dev.styx.kernel.BlobCopyFiller;
import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.Syscalls;
import dev.styx.kernel.fdstore.HolderFdStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A daemon stand-in run as its own JVM by the restart test: a fanotify backend whose fds live in an
 * fd holder. Mode {@code hang} journals events and never fills them (then gets SIGKILLed); mode
 * {@code serve} takes the fds back and fills from the real blob. Prints READY / FILL lines on
 * stdout; exits cleanly when stdin closes. Mode {@code hang-no-fdstore} hangs without any fd store
 * (the hazard the store exists for).
 */
public final class FanotifyChild {
  private FanotifyChild() {}

  public static void main(String[] args) throws Exception {
    Path holder = Path.of(args[0]);
    Path journal = Path.of(args[1]);
    Path slabFile = Path.of(args[2]);
    Path blob = Path.of(args[3]);
    String mode = args[4];
    boolean noStore = mode.equals("hang-no-fdstore");
    HolderFdStore store = noStore ? null : HolderFdStore.connect(holder);
    FanotifyBackend backend =
        new FanotifyBackend(
            new FanotifyOptions(
                Duration.ofSeconds(30), journal, noStore, FanotifyOptions.DEFAULT_READ_AHEAD_KB),
            store);
    int writeFd =
        backend
            .restoredWriteFd(0)
            .orElse(Syscalls.open(slabFile, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0));
    BlobCopyFiller copy = new BlobCopyFiller(blob, writeFd);
    SlabFiller filler =
        (slab, off, len) -> {
          say("FILL " + off + " " + len);
          if (mode.startsWith("hang")) {
            try {
              Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
              throw new IOException("interrupted");
            }
          }
          copy.fill(slab, off, len);
        };
    backend.start(filler);
    backend.attachSlab(new Backend.Slab(0, slabFile, writeFd));
    say(
        "READY restored="
            + backend.groupRestored()
            + " replayed="
            + backend.stats().replayed()
            + " writeFd="
            + writeFd);
    while (System.in.read() >= 0) {
      // Runs until the test closes stdin (or kills this process).
    }
    backend.close();
    say("CLOSED " + backend.stats());
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
