package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.styx.api.ApiClient;
import dev.styx.kernel.Syscalls;
import dev.styx.nix.StorePath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 3 (part): the daemon as its own process ({@code styx daemon}) is SIGKILLed with paths
 * mounted; the mounts keep reading correctly, a new daemon reports them as mounted, and after a
 * simulated reboot (everything unmounted, daemon stopped with SIGTERM) a new daemon mounts them
 * again by itself.
 */
class RestartTest {
  @TempDir Path tmp;
  private final List<Process> daemons = new ArrayList<>();

  @AfterEach
  void cleanup() throws Exception {
    for (Process p : daemons) {
      p.destroyForcibly().waitFor();
    }
    Testbed.unmountAllUnder(tmp);
  }

  private Path cache() {
    return tmp.resolve("cache");
  }

  private Path socket() {
    return cache().resolve("styx.sock");
  }

  private static List<String> cli(String... args) {
    return dev.styx.cli.ChildStyx.command(args);
  }

  private Process startDaemon() throws Exception {
    Process p =
        new ProcessBuilder(
                cli(
                    "daemon",
                    "--cache-dir",
                    cache().toString(),
                    "--socket",
                    socket().toString(),
                    "--backend",
                    "eager"))
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("daemon-" + daemons.size() + ".log").toFile())
            .start();
    daemons.add(p);
    ApiClient c = new ApiClient(socket());
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

  private String runCli(String... args) throws Exception {
    Process p = new ProcessBuilder(cli(args)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), out);
    return out;
  }

  private static JsonNode image(JsonNode debug, StorePath p) {
    for (JsonNode i : debug.path("images")) {
      if (i.path("storePath").asText().equals(p.baseName())) {
        return i;
      }
    }
    throw new AssertionError("no image " + p + " in " + debug);
  }

  @Test
  void mountsSurviveSigkillAndComeBackAfterReboot() throws Exception {
    List<StorePath> paths =
        List.of(Testbed.path("i18n"), Testbed.path("file"), Testbed.path("symlink"));
    Path mnt = tmp.resolve("mnt");
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"))) {
      Process d1 = startDaemon();
      runCli(
          "init",
          "--socket",
          socket().toString(),
          "--manifester",
          m.url(),
          "--trusted-key",
          m.publicKey());
      for (StorePath p : paths) {
        runCli(
            "mount",
            "--socket",
            socket().toString(),
            "--upstream",
            Testbed.upstream(),
            p.toString(),
            mnt.resolve(p.baseName()).toString());
      }
      d1.destroyForcibly(); // SIGKILL
      assertEquals(137, d1.waitFor());
      for (StorePath p : paths) {
        assertEquals(
            Testbed.narHashHex(p),
            Testbed.dumpHashHex(mnt.resolve(p.baseName())),
            p + " after SIGKILL");
      }

      startDaemon();
      String status = runCli("status", "--socket", socket().toString());
      JsonNode st =
          new ObjectMapper().readTree(runCli("status", "--json", "--socket", socket().toString()));
      for (StorePath p : paths) {
        assertEquals("MOUNTED", image(st, p).path("state").asText(), st.toString());
        assertTrue(status.contains(p.baseName()), status);
      }
      assertTrue(status.contains("mounted"), status);
      assertTrue(status.contains("backend: eager"), status);

      // Reboot: SIGTERM stops the daemon cleanly; the mounts vanish with the "machine".
      Process d2 = daemons.getLast();
      d2.destroy(); // SIGTERM
      assertTrue(d2.waitFor(20, TimeUnit.SECONDS), "daemon stops on SIGTERM");
      assertFalse(Files.exists(socket()), "socket removed on clean shutdown");
      assertTrue(log().contains("styx daemon stopped"), log());
      for (StorePath p : paths) {
        Path mp = mnt.resolve(p.baseName());
        if (Files.isSymbolicLink(mp)) {
          Files.delete(mp);
        } else {
          Syscalls.umount(mp, 0);
        }
      }
      startDaemon();
      JsonNode st2 =
          new ObjectMapper().readTree(runCli("status", "--json", "--socket", socket().toString()));
      for (StorePath p : paths) {
        assertEquals("MOUNTED", image(st2, p).path("state").asText());
        assertEquals(
            Testbed.narHashHex(p),
            Testbed.dumpHashHex(mnt.resolve(p.baseName())),
            p + " after reboot");
      }
      assertEquals(0, st2.path("fetch").path("bytes").asLong(), "remount needed no fetch");
      runCli("umount", "--socket", socket().toString(), paths.getFirst().toString());
      assertFalse(MountTable.isMountPoint(mnt.resolve(paths.getFirst().baseName())));
    }
  }
}
