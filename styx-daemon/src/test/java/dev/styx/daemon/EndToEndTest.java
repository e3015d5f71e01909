package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.styx.api.ApiClient;
import dev.styx.nix.StorePath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 1: a binary cache made by Debian's Nix, the styx-server manifester, and the daemon
 * with the eager backend mount store paths (a JDK, machine trees, a single-file path, a symlink
 * path); {@code nix-store --dump} of every mount point hashes to the narinfo NarHash.
 */
class EndToEndTest {
  @TempDir Path tmp;

  @AfterEach
  void cleanup() throws Exception {
    Testbed.unmountAllUnder(tmp);
  }

  @Test
  void mountsRealStorePathsWhoseNarHashesMatch() throws Exception {
    List<String> labels = new ArrayList<>(Testbed.MACHINE_TREES);
    labels.addAll(List.of("file", "symlink", "v1", "thousand"));
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofMinutes(3))) {
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      Path mnt = tmp.resolve("mnt");
      for (String label : labels) {
        StorePath p = Testbed.path(label);
        Path mp = mnt.resolve(p.baseName());
        long t0 = System.nanoTime();
        ApiClient.Reply r = Testbed.mount(c, p, mp);
        assertEquals(200, r.status(), label + ": " + r.text());
        assertEquals("{\"Success\":true}", r.text());
        System.err.printf(
            "mounted %s (%s) in %d ms%n",
            label, p.baseName(), (System.nanoTime() - t0) / 1_000_000);
        String want = Testbed.narHashHex(p);
        String got = Testbed.dumpHashHex(mp);
        if (!want.equals(got)) {
          Process diff =
              new ProcessBuilder("diff", "-r", "--no-dereference", p.toString(), mp.toString())
                  .redirectErrorStream(true)
                  .start();
          String out = new String(diff.getInputStream().readAllBytes());
          diff.waitFor();
          assertEquals(
              want,
              got,
              label + " NAR hash; diff -r:\n" + out.substring(0, Math.min(3000, out.length())));
        }
      }
      assertTrue(Files.isSymbolicLink(mnt.resolve(Testbed.path("symlink").baseName())));
      assertTrue(Files.isRegularFile(mnt.resolve(Testbed.path("file").baseName())));
      // The JDK mounted this way actually runs.
      Path java = mnt.resolve(Testbed.path("jdk").baseName()).resolve("bin/java");
      Process jp =
          new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true).start();
      String out = new String(jp.getInputStream().readAllBytes());
      assertEquals(0, jp.waitFor(), out);
      assertTrue(out.contains("17."), out);

      // Mounting again at the same place is a no-op success; elsewhere is refused.
      StorePath ssl = Testbed.path("ssl");
      assertEquals(200, Testbed.mount(c, ssl, mnt.resolve(ssl.baseName())).status());
      ApiClient.Reply twice = Testbed.mount(c, ssl, tmp.resolve("elsewhere"));
      assertEquals(409, twice.status(), twice.text());
      assertTrue(twice.text().contains("\"Success\":false"), twice.text());

      // Status reflects everything; unmount then mount again works without refetching.
      JsonNode st = new ObjectMapper().readTree(c.post("/debug", "{}").body());
      assertEquals(labels.size(), st.path("images").size());
      for (JsonNode i : st.path("images")) {
        assertEquals("MOUNTED", i.path("state").asText(), i.toString());
      }
      long fetchedBefore = st.path("fetch").path("bytes").asLong();
      assertEquals(200, Testbed.umount(c, ssl).status());
      assertFalse(MountTable.isMountPoint(mnt.resolve(ssl.baseName())));
      assertEquals(404, Testbed.umount(c, ssl).status());
      assertEquals(200, Testbed.mount(c, ssl, mnt.resolve(ssl.baseName())).status());
      assertEquals(Testbed.narHashHex(ssl), Testbed.dumpHashHex(mnt.resolve(ssl.baseName())));
      JsonNode st2 = new ObjectMapper().readTree(c.post("/debug", "{}").body());
      assertEquals(
          fetchedBefore, st2.path("fetch").path("bytes").asLong(), "remount fetched nothing");
      String metrics = c.post("/metrics", "{}").text();
      assertTrue(metrics.contains("styx_images{state=\"mounted\"} " + labels.size()), metrics);
    }
  }
}
