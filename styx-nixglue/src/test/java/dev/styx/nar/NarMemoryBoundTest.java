package dev.styx.nar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NAR parsing and restore run in constant memory: a 1 GiB file through a 32 MiB heap. */
class NarMemoryBoundTest {
  @TempDir Path tmp;

  @Test
  void hugeNarThroughTinyHeap() throws Exception {
    long big = 1L << 30;
    int entries = 20_000;
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    Process p =
        new ProcessBuilder(
                javaBin.toString(),
                "-Xmx32m",
                "-cp",
                System.getProperty("java.class.path"),
                NarMemoryProbe.class.getName(),
                Long.toString(big),
                Integer.toString(entries),
                tmp.resolve("restored").toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertEquals(0, p.waitFor(), out);
    // The expected digest, computed here over the same synthetic stream.
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long n;
    try (var in = new DigestInputStream(NarMemoryProbe.syntheticNar(entries, big), md)) {
      n = in.transferTo(java.io.OutputStream.nullOutputStream());
    }
    assertTrue(n > big);
    assertEquals("ok " + n + " " + HexFormat.of().formatHex(md.digest()), out);
  }
}
