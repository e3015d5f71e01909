package dev.styx.cache;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Test check shared by the decoder tests: closing a stream early ends its read-ahead thread. */
final class ReadAheadThreads {
  private ReadAheadThreads() {}

  /**
   * Opens {@code file} with {@code compression}, reads one byte, closes, checks the thread ended.
   */
  static void assertEndOnEarlyClose(String compression, byte[] file) throws IOException {
    InputStream in =
        Decompression.open(compression, new ByteArrayInputStream(file), "t." + compression);
    assertTrue(in.read() >= 0);
    in.close();
    assertTrue(
        Thread.getAllStackTraces().keySet().stream()
            .noneMatch(t -> t.getName().startsWith("nar-readahead-") && t.isAlive()),
        "read-ahead thread still running after close");
  }
}
