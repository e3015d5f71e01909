package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.styx.chunk.ChunkDigest;
import dev.styx.testing.Tiers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NAR rebuilt from a manifest must be byte-identical to what real Nix dumps. */
class ManifestNarWriterTest {
  @TempDir Path tmp;

  @Test
  void rebuiltNarEqualsNixStoreDump() throws Exception {
    Tiers.requireNix();
    Path root = tmp.resolve("tree");
    Files.createDirectories(root.resolve("bin"));
    Files.createDirectories(root.resolve("share/doc/empty-dir"));
    Random r = new Random(3);
    byte[] big = new byte[300_000];
    r.nextBytes(big);
    Files.write(root.resolve("bin/tool"), big);
    Files.setPosixFilePermissions(
        root.resolve("bin/tool"), PosixFilePermissions.fromString("r-xr-xr-x"));
    Files.writeString(root.resolve("share/doc/README"), "hello nix\n");
    Files.write(root.resolve("share/empty"), new byte[0]);
    Files.write(root.resolve("share/exact64k"), new byte[65536]);
    Files.write(root.resolve("share/b225"), new byte[225]);
    Files.createSymbolicLink(root.resolve("bin/link"), Path.of("tool"));
    Files.createSymbolicLink(root.resolve("dangling"), Path.of("/nix/store/nowhere"));
    Files.writeString(root.resolve("Zupper"), "sorts before lower case");
    Map<ChunkDigest, byte[]> chunks = new HashMap<>();
    Manifest m = TestManifests.ofTree(root, chunks);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n = ManifestNarWriter.write(m, (d, len) -> chunks.get(d), out);
    byte[] want = dump(root);
    assertEquals(want.length, n);
    assertArrayEquals(want, out.toByteArray());
  }

  @Test
  void singleFileRootAndWrongChunkLength() throws Exception {
    Tiers.requireNix();
    Path f = tmp.resolve("file");
    Files.write(f, new byte[100_000]);
    Map<ChunkDigest, byte[]> chunks = new HashMap<>();
    Manifest m = TestManifests.ofTree(f, chunks);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ManifestNarWriter.write(m, (d, len) -> chunks.get(d), out);
    assertArrayEquals(dump(f), out.toByteArray());
    assertThrows(
        IOException.class,
        () ->
            ManifestNarWriter.write(m, (d, len) -> new byte[len - 1], new ByteArrayOutputStream()));
  }

  private byte[] dump(Path p) throws Exception {
    Path out = tmp.resolve("dump-" + System.nanoTime());
    Tiers.run(null, "sh", "-c", "nix-store --dump '" + p + "' > '" + out + "'");
    return Files.readAllBytes(out);
  }
}
