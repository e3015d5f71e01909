package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Backend;
import dev.styx.kernel.BlobCopyFiller;
import dev.styx.kernel.FileBackedMount;
import dev.styx.testing.Tiers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restart without zeros: the daemon (a child JVM) is SIGKILLed while a reader is blocked on missing
 * data; the fd holder keeps the group alive, so the reader keeps waiting instead of reading zeros;
 * a new daemon takes the fds back from the holder, answers the journaled event and the events
 * queued meanwhile, and the readers complete with correct data.
 */
class FanotifyRestartTest {
  @TempDir Path tmp;
  private final List<Process> processes = new ArrayList<>();
  private Path target;
  private boolean mounted;

  @AfterEach
  void tearDown() throws Exception {
    if (mounted) {
      FileBackedMount.unmount(target);
    }
    for (Process p : processes.reversed()) {
      p.destroyForcibly().waitFor();
    }
  }

  private record Child(Process process, BlockingQueue<String> lines) {
    String await(String prefix, long seconds) throws InterruptedException {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < until) {
        String l = lines.poll(100, TimeUnit.MILLISECONDS);
        if (l != null && l.startsWith(prefix)) {
          return l;
        }
        if (l == null && !process.isAlive()) {
          break;
        }
      }
      return null;
    }
  }

  private Child java(String name, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(tmp.resolve(name + ".err").toFile()).start();
    processes.add(p);
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(new InputStreamReader(p.getInputStream()))) {
                for (String l; (l = r.readLine()) != null; ) {
                  q.add(l);
                }
              } catch (IOException e) {
                // child gone
              }
            });
    return new Child(p, q);
  }

  @Test
  void sigkilledDaemonIsReplacedAndBlockedReadersGetCorrectData() throws Exception {
    Tiers.requireRoot();
    ErofsFixture fx = ErofsFixture.build(tmp);
    target = Files.createDirectories(tmp.resolve("mnt"));
    Path sock = tmp.resolve("holder.sock");
    Path journal = tmp.resolve("inflight.journal");
    String[] childArgs = {
      sock.toString(), journal.toString(), fx.slab.toString(), fx.blob.toString()
    };

    java("holder", "dev.styx.kernel.fdstore.FdHolder", "--socket", sock.toString());
    for (int i = 0; i < 200 && !Files.exists(sock); i++) {
      Thread.sleep(50);
    }
    assertTrue(Files.exists(sock), "fd holder listening");

    Child a = java("daemonA", FanotifyChild.class.getName(), concat(childArgs, "hang"));
    String ready = a.await("READY", 30);
    assertNotNull(ready, "first daemon ready; stderr: " + err("daemonA"));
    assertTrue(ready.contains("restored=false"), ready);

    // Marked by the child before this mount: the mount's reads raise events.
    FileBackedMount.mount(fx.image, List.of(new Backend.Slab(0, fx.slab, -1)), target);
    mounted = true;

    CompletableFuture<byte[]> reader1 = readAsync(target.resolve("sub/mid.bin"));
    assertNotNull(a.await("FILL", 30), "event reached the first daemon");
    assertEquals(1, journaled(journal), "in-flight event journaled");

    a.process().destroyForcibly(); // SIGKILL
    a.process().waitFor();
    assertEquals(137, a.process().exitValue(), "killed by SIGKILL");

    // A read begun while no daemon runs queues in the (held) group.
    CompletableFuture<byte[]> reader2 = readAsync(target.resolve("many/f7"));
    Thread.sleep(1500);
    assertFalse(reader1.isDone(), "reader 1 must block, not read zeros, while no daemon runs");
    assertFalse(reader2.isDone(), "reader 2 must block, not read zeros, while no daemon runs");

    Child b = java("daemonB", FanotifyChild.class.getName(), concat(childArgs, "serve"));
    String ready2 = b.await("READY", 30);
    assertNotNull(ready2, "second daemon ready; stderr: " + err("daemonB"));
    assertTrue(ready2.contains("restored=true"), ready2);
    assertTrue(ready2.contains("replayed=1"), "the journaled event is replayed: " + ready2);

    assertArrayEquals(fx.files.get("sub/mid.bin"), reader1.get(30, TimeUnit.SECONDS));
    assertArrayEquals(fx.files.get("many/f7"), reader2.get(30, TimeUnit.SECONDS));
    for (Map.Entry<String, byte[]> e : fx.files.entrySet()) {
      assertArrayEquals(e.getValue(), Files.readAllBytes(target.resolve(e.getKey())), e.getKey());
    }
    assertTrue(drained(journal), "nothing left in flight");

    b.process().getOutputStream().close(); // orderly stop
    assertNotNull(b.await("CLOSED", 30), "second daemon closed cleanly");
  }

  /**
   * An orderly stop with an fd store hands unfinished events over instead of waiting them out: the
   * first backend closes with a fill still running, the reader keeps waiting, and the next backend
   * (same process here, fds from the same holder) replays the journal and completes the read.
   */
  @Test
  void orderlyCloseHandsInFlightEventsToTheNextInstance() throws Exception {
    Tiers.requireRoot();
    ErofsFixture fx = ErofsFixture.build(tmp);
    target = Files.createDirectories(tmp.resolve("mnt"));
    Path sock = tmp.resolve("holder.sock");
    Path journal = tmp.resolve("inflight.journal");
    FanotifyOptions opts =
        new FanotifyOptions(
            java.time.Duration.ofSeconds(60),
            journal,
            false,
            FanotifyOptions.DEFAULT_READ_AHEAD_KB);
    try (dev.styx.kernel.fdstore.FdHolder holder = dev.styx.kernel.fdstore.FdHolder.bind(sock)) {
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try {
                  holder.serve();
                } catch (IOException e) {
                  // closed
                }
              });
      java.util.concurrent.CountDownLatch called = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
      int writeFd1 =
          dev.styx.kernel.Syscalls.open(
              fx.slab, dev.styx.kernel.Syscalls.O_RDWR | dev.styx.kernel.Syscalls.O_CLOEXEC, 0);
      FanotifyBackend first =
          new FanotifyBackend(opts, dev.styx.kernel.fdstore.HolderFdStore.connect(sock));
      first.start(
          (slab, off, len) -> {
            called.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new IOException("interrupted");
            }
          });
      Backend.Slab s1 = new Backend.Slab(0, fx.slab, writeFd1);
      first.attachSlab(s1);
      first.mount(fx.image, List.of(s1), target);
      mounted = true;
      CompletableFuture<byte[]> reader = readAsync(target.resolve("sub/odd.bin"));
      assertTrue(called.await(30, TimeUnit.SECONDS), "fill started");
      first.close();
      assertFalse(reader.isDone(), "the reader waits for the next instance");
      assertEquals(1, journaled(journal), "left journaled");

      FanotifyBackend second =
          new FanotifyBackend(opts, dev.styx.kernel.fdstore.HolderFdStore.connect(sock));
      java.util.OptionalInt kept = second.restoredWriteFd(0);
      assertTrue(kept.isPresent(), "slab write fd handed back");
      try (BlobCopyFiller filler = new BlobCopyFiller(fx.blob, kept.getAsInt())) {
        second.start(filler);
        assertTrue(second.groupRestored());
        assertEquals(1, second.stats().replayed());
        // A write fd opened now (after the kept group marked the slab) is refused: it would
        // deadlock on its own events. (The replay waits for the slab to be attached.)
        int fresh =
            dev.styx.kernel.Syscalls.open(
                fx.slab, dev.styx.kernel.Syscalls.O_RDWR | dev.styx.kernel.Syscalls.O_CLOEXEC, 0);
        IOException refused =
            org.junit.jupiter.api.Assertions.assertThrows(
                IOException.class, () -> second.attachSlab(new Backend.Slab(0, fx.slab, fresh)));
        assertTrue(refused.getMessage().contains("restoredWriteFd"), refused.getMessage());
        dev.styx.kernel.Syscalls.close(fresh);
        assertFalse(reader.isDone());
        second.attachSlab(new Backend.Slab(0, fx.slab, kept.getAsInt()));
        assertArrayEquals(fx.files.get("sub/odd.bin"), reader.get(30, TimeUnit.SECONDS));
        assertTrue(drained(journal), "nothing left in flight");
      } finally {
        FileBackedMount.unmount(target);
        mounted = false;
        second.close();
        release.countDown();
      }
    }
  }

  /**
   * The control that shows what the fd store prevents (anchors hazard A): with no store, killing
   * the daemon lets the kernel answer the pending event ALLOW and the reader gets zeros, rc 0.
   */
  @Test
  void withoutAnFdStoreAKilledDaemonLetsTheReaderSeeZeros() throws Exception {
    Tiers.requireRoot();
    ErofsFixture fx = ErofsFixture.build(tmp);
    target = Files.createDirectories(tmp.resolve("mnt"));
    Child a =
        java(
            "daemonA",
            FanotifyChild.class.getName(),
            "unused.sock",
            tmp.resolve("inflight.journal").toString(),
            fx.slab.toString(),
            fx.blob.toString(),
            "hang-no-fdstore");
    assertNotNull(a.await("READY", 30), "daemon ready; stderr: " + err("daemonA"));
    FileBackedMount.mount(fx.image, List.of(new Backend.Slab(0, fx.slab, -1)), target);
    mounted = true;
    CompletableFuture<byte[]> reader = readAsync(target.resolve("sub/mid.bin"));
    assertNotNull(a.await("FILL", 30), "event reached the daemon");
    a.process().destroyForcibly();
    byte[] got = reader.get(30, TimeUnit.SECONDS);
    assertEquals(fx.files.get("sub/mid.bin").length, got.length);
    assertFalse(java.util.Arrays.equals(fx.files.get("sub/mid.bin"), got), "data cannot be right");
    assertTrue(allZero(got, 0, 4096), "the hazard: the first page reads as zeros, no error");
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  /** Waits (briefly) for the journal to empty: the answer reaches the reader before removal. */
  private static boolean drained(Path journal) throws Exception {
    for (int i = 0; i < 100; i++) {
      if (InFlightJournal.scan(java.nio.ByteBuffer.wrap(Files.readAllBytes(journal))).isEmpty()) {
        return true;
      }
      Thread.sleep(50);
    }
    return journaled(journal) == 0;
  }

  private static int journaled(Path journal) throws IOException {
    var live = InFlightJournal.scan(java.nio.ByteBuffer.wrap(Files.readAllBytes(journal)));
    if (!live.isEmpty()) {
      System.err.println("journal live: " + live + " size " + Files.size(journal));
    }
    return live.size();
  }

  private String err(String name) throws IOException {
    Path p = tmp.resolve(name + ".err");
    return Files.exists(p) ? Files.readString(p) : "";
  }

  private static CompletableFuture<byte[]> readAsync(Path p) {
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    // A platform thread: it blocks in read(2) inside the kernel.
    Thread.ofPlatform()
        .daemon()
        .start(
            () -> {
              try {
                f.complete(Files.readAllBytes(p));
              } catch (Throwable t) {
                f.completeExceptionally(t);
              }
            });
    return f;
  }

  private static String[] concat(String[] a, String b) {
    String[] r = java.util.Arrays.copyOf(a, a.length + 1);
    r[a.length] = b;
    return r;
  }
}
