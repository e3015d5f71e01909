package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.styx.api.ApiClient;
import dev.styx.manifest.Manifest;
import dev.styx.nix.StorePath;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 2: two versions of a tree that share most chunks, both mounted, take no more slab
 * space than their distinct chunks (x 1.05), and each reads back exactly.
 */
class SharingTest {
  @TempDir Path tmp;

  @AfterEach
  void cleanup() throws Exception {
    Testbed.unmountAllUnder(tmp);
  }

  @Test
  void twoVersionsShareTheirCommonChunksOnDisk() throws Exception {
    StorePath v1 = Testbed.path("v1");
    StorePath v2 = Testbed.path("v2");
    try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d = Testbed.daemon(tmp.resolve("d"), Duration.ofMinutes(2))) {
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      for (StorePath p : List.of(v1, v2)) {
        Path mp = tmp.resolve("mnt").resolve(p.baseName());
        ApiClient.Reply r = Testbed.mount(c, p, mp);
        assertEquals(200, r.status(), r.text());
        assertEquals(Testbed.narHashHex(p), Testbed.dumpHashHex(mp));
      }
      Manifest m1 = Testbed.manifest(m, v1);
      Manifest m2 = Testbed.manifest(m, v2);
      long unique =
          Testbed.distinctChunks(List.of(m1, m2)).values().stream().mapToLong(i -> i).sum();
      long separate =
          Testbed.distinctChunks(List.of(m1)).values().stream().mapToLong(i -> i).sum()
              + Testbed.distinctChunks(List.of(m2)).values().stream().mapToLong(i -> i).sum();
      JsonNode st = new ObjectMapper().readTree(c.post("/debug", "{}").body());
      long onDisk = st.path("bytesOnDisk").asLong();
      System.err.printf(
          "sharing: unique chunk bytes %d, both paths separately %d, slab bytes on disk %d (%.3fx unique)%n",
          unique, separate, onDisk, onDisk / (double) unique);
      assertTrue(unique < separate * 0.6, "the versions share most chunks");
      assertTrue(onDisk <= unique * 1.05, "on disk " + onDisk + " > 1.05 x " + unique);
      assertTrue(onDisk >= unique, "every unique chunk byte is on disk");
      assertEquals(unique, st.path("fetch").path("bytes").asLong(), "each chunk fetched once");
    }
  }
}
