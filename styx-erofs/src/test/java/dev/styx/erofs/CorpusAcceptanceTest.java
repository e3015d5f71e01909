package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3 acceptance 1, 2 and 4 (round trip) on the synthetic corpus and on real trees: build,
 * mount(2) file-backed with the slab as device, NAR of the mount == NAR of the source; fsck.erofs
 * passes and extracts the same tree; the reader returns the tree the writer was given.
 */
class CorpusAcceptanceTest {
  @TempDir Path tmp;

  private void check(Path src) throws Exception {
    Corpus.Built b = Corpus.build(src, tmp.resolve("slab"), tmp.resolve("image.erofs"));
    byte[] bytes = Files.readAllBytes(b.imageFile());
    ErofsImage back = ErofsReader.read(bytes);
    assertEquals(b.image(), back, "reader round trip");
    assertArrayEquals(bytes, ErofsWriter.write(back), "rewrite of the read tree is identical");
    ImageChecks.assertMountMatches(b.imageFile(), List.of(b.slab()), src, tmp.resolve("mnt"));
    ImageChecks.assertFsckExtractMatches(
        b.imageFile(), List.of(b.slab()), src, tmp.resolve("extract"));
  }

  @Test
  void syntheticCorpus() throws Exception {
    Tiers.requireRoot();
    Path src = tmp.resolve("src");
    Corpus.generate(src, 42);
    check(src);
  }

  @Test
  void realTreeJdk() throws Exception {
    Tiers.requireRoot();
    Path jdk = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
    if (!Files.isDirectory(jdk)) {
      Tiers.requireCommand("java-17-openjdk-amd64 (the JDK tree " + jdk + ")");
    }
    check(jdk);
  }

  @Test
  void realTreeUsrShareDoc() throws Exception {
    Tiers.requireRoot();
    check(Path.of("/usr/share/doc"));
  }
}
