package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.api.ApiClient;
import dev.styx.nix.StorePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6 acceptance 3 (restart): the daemon (a child JVM, fanotify backend, fds in an fd holder)
 * is SIGKILLed while readers block on missing data; a restarted daemon takes the fds back and the
 * readers complete with correct data, never zeros, and every mounted path still hashes right.
 */
class FanotifyRestartTest {
  @TempDir Path tmp;
  private final List<Process> daemons = new ArrayList<>();

  @AfterEach
  void cleanup() throws Exception {
    for (Process p : daemons) {
      p.destroyForcibly().waitFor();
    }
    Testbed.unmountAllUnder(tmp);
  }

  /** A loopback TCP proxy that can hold new connections unanswered (a stalled chunk server). */
  static final class StallingProxy implements AutoCloseable {
    final ServerSocket listen;
    final URI target;
    volatile CountDownLatch gate = new CountDownLatch(0);

    StallingProxy(String targetUrl) throws IOException {
      target = URI.create(targetUrl);
      listen = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
      Thread.ofVirtual().start(this::accept);
    }

    String url() {
      return "http://127.0.0.1:" + listen.getLocalPort();
    }

    void stall() {
      gate = new CountDownLatch(1);
    }

    void release() {
      gate.countDown();
    }

    private void accept() {
      try {
        while (true) {
          Socket c = listen.accept();
          CountDownLatch g = gate;
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (c) {
                      g.await();
                      try (Socket s = new Socket("127.0.0.1", target.getPort())) {
                        Thread up = Thread.ofVirtual().start(() -> pipe(c, s));
                        pipe(s, c);
                        up.join();
                      }
                    } catch (IOException | InterruptedException e) {
                      // connection gone
                    }
                  });
        }
      } catch (IOException e) {
        // closed
      }
    }

    private static void pipe(Socket from, Socket to) {
      try (InputStream in = from.getInputStream()) {
        OutputStream out = to.getOutputStream();
        in.transferTo(out);
        to.shutdownOutput();
      } catch (IOException e) {
        // closed
      }
    }

    @Override
    public void close() throws IOException {
      listen.close();
    }
  }

  private static List<String> cli(String... args) {
    return dev.styx.cli.ChildStyx.command(args);
  }

  private Process startDaemon(Path holder) throws Exception {
    Path cache = tmp.resolve("cache");
    Process p =
        new ProcessBuilder(
                cli(
                    "daemon",
                    "--cache-dir",
                    cache.toString(),
                    "--backend",
                    "fanotify",
                    "--fd-holder",
                    holder.toString(),
                    "--fanotify-deadline",
                    "120s",
                    "--fill-timeout",
                    "100s"))
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("daemon-" + daemons.size() + ".log").toFile())
            .start();
    daemons.add(p);
    ApiClient c = new ApiClient(cache.resolve("styx.sock"));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < until) {
      assertTrue(p.isAlive(), "daemon exited: " + log());
      try {
        if (c.post("/debug", "{}").status() == 200) {
          return p;
        }
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError("daemon did not come up: " + log());
  }

  private String log() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < daemons.size(); i++) {
      Path f = tmp.resolve("daemon-" + i + ".log");
      if (Files.exists(f)) {
        sb.append(Files.readString(f));
      }
    }
    return sb.toString();
  }

  @Test
  void sigkilledDaemonLeavesReadersBlockedAndTheRestartedOneServesThem() throws Exception {
    List<StorePath> paths = List.of(Testbed.path("v1"), Testbed.path("thousand"));
    try (FanotifyDaemonTest.Holder h = new FanotifyDaemonTest.Holder(tmp.resolve("holder.sock"));
        Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        StallingProxy proxy = new StallingProxy(m.url())) {
      for (StorePath p : paths) {
        Testbed.manifest(m, p);
      }
      Process first = startDaemon(h.socket);
      ApiClient c = new ApiClient(tmp.resolve("cache/styx.sock"));
      assertEquals(200, Testbed.init(c, m.url(), proxy.url(), m.publicKey()).status());
      List<Path[]> files = new ArrayList<>(); // {mounted, original}
      for (StorePath p : paths) {
        Path mp = tmp.resolve("mnt").resolve(p.baseName());
        assertEquals(200, Testbed.mount(c, p, mp).status(), log());
        Path orig = Path.of(p.toString());
        try (var s = Files.walk(orig)) {
          for (Path o : s.filter(Files::isRegularFile).limit(40).toList()) {
            files.add(new Path[] {mp.resolve(orig.relativize(o).toString()), o});
          }
        }
      }
      proxy.stall();
      List<Future<byte[]>> readers = new ArrayList<>();
      // Platform threads: they sit in read(2) until the data arrives.
      try (ExecutorService ex = Executors.newFixedThreadPool(files.size())) {
        for (Path[] f : files) {
          readers.add(ex.submit(() -> Files.readAllBytes(f[0])));
        }
        Thread.sleep(1500);
        long blocked = readers.stream().filter(r -> !r.isDone()).count();
        assertTrue(blocked > 0, "no reader is waiting for data");
        first.destroyForcibly(); // SIGKILL
        assertTrue(first.waitFor(10, TimeUnit.SECONDS));
        Thread.sleep(1000);
        for (int i = 0; i < files.size(); i++) {
          Future<byte[]> r = readers.get(i);
          if (r.isDone()) {
            // answered before the kill: must be right, never zeros
            assertArrayEquals(Files.readAllBytes(files.get(i)[1]), r.get(), files.get(i)[0] + "");
          }
        }
        assertEquals(
            blocked,
            readers.stream().filter(r -> !r.isDone()).count(),
            "readers released by the daemon's death (zeros)");
        proxy.release();
        startDaemon(h.socket);
        for (int i = 0; i < files.size(); i++) {
          byte[] got = readers.get(i).get(60, TimeUnit.SECONDS);
          assertArrayEquals(Files.readAllBytes(files.get(i)[1]), got, files.get(i)[0] + "");
        }
        System.err.printf(
            "%d readers blocked across the SIGKILL, all completed correctly%n", blocked);
      }
      for (StorePath p : paths) {
        assertEquals(
            Testbed.narHashHex(p),
            Testbed.dumpHashHex(tmp.resolve("mnt").resolve(p.baseName())),
            p.toString());
      }
      assertTrue(log().contains("took group fd"), log());
      assertFalse(log().contains("dropping"), log());
    }
  }
}
