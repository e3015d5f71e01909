package dev.styx.nar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.testing.Tiers;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real trees (a JDK, /usr/share/doc): our dump equals {@code nix-store --dump} byte for byte
 * (compared while streaming, reporting the first differing offset), our hash equals {@code nix-hash
 * --type sha256 --base32}, and restore(dump(x)) dumps to the same NAR.
 */
class NarCorpusTest {
  @TempDir Path tmp;

  static Stream<Path> corpus() {
    return Stream.of(Path.of("/usr/lib/jvm/java-17-openjdk-amd64"), Path.of("/usr/share/doc"));
  }

  /** An OutputStream that compares what it receives with a reference stream. */
  static final class Comparing extends OutputStream {
    private final InputStream expected;
    private final byte[] buf = new byte[256 * 1024];
    long offset;

    Comparing(InputStream expected) {
      this.expected = new BufferedInputStream(expected, 256 * 1024);
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = expected.readNBytes(buf, 0, Math.min(len, buf.length));
        if (n == 0) {
          throw new AssertionError("our NAR is longer than nix-store --dump's at offset " + offset);
        }
        for (int i = 0; i < n; i++) {
          if (buf[i] != b[off + i]) {
            throw new AssertionError("NARs differ at offset " + (offset + i));
          }
        }
        offset += n;
        off += n;
        len -= n;
      }
    }

    void finish() throws IOException {
      if (expected.read() >= 0) {
        throw new AssertionError("nix-store --dump's NAR is longer than ours (" + offset + ")");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("corpus")
  void dumpHashAndRestoreMatchNix(Path tree) throws Exception {
    Tiers.requireNix();
    Process nix =
        new ProcessBuilder("nix-store", "--dump", tree.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    Comparing cmp = new Comparing(nix.getInputStream());
    long size = NarDump.dump(tree, cmp);
    cmp.finish();
    assertEquals(0, nix.waitFor());
    assertEquals(cmp.offset, size);

    String nixHash =
        Tiers.run(null, "nix-hash", "--type", "sha256", "--base32", tree.toString()).trim();
    NarDigest d = NarDump.hash(tree);
    assertEquals("sha256:" + nixHash, d.narHash().toString());
    assertEquals(size, d.narSize());

    // restore(dump(x)) == x, streamed through a pipe so nothing is held in memory.
    Path out = tmp.resolve("restored");
    java.io.PipedInputStream pin = new java.io.PipedInputStream(1 << 20);
    java.io.PipedOutputStream pout = new java.io.PipedOutputStream(pin);
    Thread writer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try (pout) {
                    NarDump.dump(tree, pout);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
    NarRestore.restore(pin, out);
    writer.join();
    assertEquals(d, NarDump.hash(out));
    assertEquals(
        nixHash,
        Tiers.run(null, "nix-hash", "--type", "sha256", "--base32", out.toString()).trim());
    assertEquals(true, Files.isDirectory(out));
  }
}
