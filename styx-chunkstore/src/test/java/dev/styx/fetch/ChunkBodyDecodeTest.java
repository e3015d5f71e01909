package dev.styx.fetch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.luben.zstd.Zstd;
import dev.styx.slab.ChunkDigestMismatchException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The chunk body decoder: zstd frames decoded to exactly the expected size, raw bodies as is. */
class ChunkBodyDecodeTest {
  private static byte[] data(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    Arrays.fill(b, 0, n / 2, (byte) 7); // half compressible
    return b;
  }

  @Test
  void decodesAFrameOfTheExpectedSize() throws IOException {
    byte[] d = data(70_000);
    assertArrayEquals(d, HttpChunkSource.decode(Zstd.compress(d, 3), d.length));
  }

  @Test
  void aFrameHoldingMoreThanExpectedIsAMismatch() {
    byte[] d = data(70_000);
    byte[] z = Zstd.compress(d, 3);
    assertThrows(ChunkDigestMismatchException.class, () -> HttpChunkSource.decode(z, 69_999));
    // Without a content size in the header the decoder itself must notice the overflow.
    byte[] noSize = frameWithoutContentSize(d);
    IOException e =
        assertThrows(IOException.class, () -> HttpChunkSource.decode(noSize, d.length - 1));
    assertInstanceOf(ChunkDigestMismatchException.class, e, e.toString());
  }

  @Test
  void aFrameHoldingLessThanExpectedIsAMismatch() {
    byte[] d = data(70_000);
    assertThrows(
        ChunkDigestMismatchException.class,
        () -> HttpChunkSource.decode(Zstd.compress(d, 3), 70_001));
    byte[] noSize = frameWithoutContentSize(d);
    assertThrows(
        ChunkDigestMismatchException.class, () -> HttpChunkSource.decode(noSize, d.length + 1));
  }

  @Test
  void aBodyThatIsNoFrameIsTakenRaw() throws IOException {
    byte[] raw = "plain chunk bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    assertArrayEquals(raw, HttpChunkSource.decode(raw, raw.length));
  }

  @Test
  void aCorruptFrameIsAnError() {
    byte[] d = data(70_000);
    byte[] z = Zstd.compress(d, 3);
    byte[] cut = Arrays.copyOf(z, z.length / 2);
    assertThrows(IOException.class, () -> HttpChunkSource.decode(cut, d.length));
  }

  private static byte[] frameWithoutContentSize(byte[] d) {
    try (com.github.luben.zstd.ZstdCompressCtx c = new com.github.luben.zstd.ZstdCompressCtx()) {
      c.setLevel(3);
      c.setContentSize(false);
      return c.compress(d);
    }
  }
}
