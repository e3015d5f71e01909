package dev.styx.diff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffCodecTest {
  @TempDir Path tmp;

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void smallChangeAgainstBaseIsTinyAndRoundTrips() throws Exception {
    byte[] base = random(6 << 20, 1); // larger than zstd indexes of a dictionary by default
    byte[] target = base.clone();
    Random r = new Random(2);
    for (int i = 0; i < 200; i++) {
      target[r.nextInt(target.length)] ^= 0x55;
    }
    byte[] plain = DiffCodec.encode(new byte[0], target, 3);
    byte[] diff = DiffCodec.encode(base, target, 3);
    assertTrue(plain.length > target.length, "random data does not compress alone");
    assertTrue(diff.length < 20_000, "diff is " + diff.length);
    assertArrayEquals(target, DiffCodec.decode(base, diff, target.length));
    assertArrayEquals(target, DiffCodec.decode(new byte[0], plain, target.length));
  }

  @Test
  void wrongBaseOrLengthFails() throws Exception {
    byte[] base = random(100_000, 1);
    byte[] target = base.clone();
    target[5] ^= 1;
    byte[] diff = DiffCodec.encode(base, target, 3);
    byte[] otherBase = base.clone();
    otherBase[50_000] ^= 1;
    // A frame has a checksum: decoding against a different base must not silently succeed.
    assertThrows(IOException.class, () -> DiffCodec.decode(otherBase, diff, target.length));
    assertThrows(IOException.class, () -> DiffCodec.decode(base, diff, target.length - 1));
    assertThrows(IOException.class, () -> DiffCodec.decode(base, diff, target.length + 1));
  }

  @Test
  void splitChecksLengths() throws Exception {
    byte[] d = random(10, 1);
    List<byte[]> parts = DiffCodec.split(d, new long[] {3, 0, 7});
    assertEquals(3, parts.size());
    assertEquals(7, parts.get(2).length);
    assertThrows(IOException.class, () -> DiffCodec.split(d, new long[] {3, 6}));
    assertThrows(IOException.class, () -> DiffCodec.split(d, new long[] {3, 8}));
  }

  @Test
  void zstdCliPatchFromInteroperatesBothWays() throws Exception {
    Tiers.requireCommand("zstd");
    byte[] base = DiffCodec.concat(List.of(random(300_000, 4), "text".repeat(10_000).getBytes()));
    byte[] target = base.clone();
    for (int i = 0; i < target.length; i += 40_000) {
      target[i] = 'X';
    }
    Path b = tmp.resolve("base");
    Path t = tmp.resolve("target");
    Path z = tmp.resolve("ours.zst");
    Files.write(b, base);
    Files.write(t, target);
    Files.write(z, DiffCodec.encode(base, target, 3));
    Tiers.run(
        tmp,
        "zstd",
        "-q",
        "-d",
        "--patch-from=" + b,
        z.toString(),
        "-o",
        tmp.resolve("out").toString());
    assertArrayEquals(target, Files.readAllBytes(tmp.resolve("out")));
    Tiers.run(
        tmp,
        "zstd",
        "-q",
        "-3",
        "--patch-from=" + b,
        t.toString(),
        "-o",
        tmp.resolve("cli.zst").toString());
    byte[] cli = Files.readAllBytes(tmp.resolve("cli.zst"));
    assertTrue(cli.length < 5_000, "cli diff is " + cli.length);
    assertArrayEquals(target, DiffCodec.decode(base, cli, target.length));
  }
}
