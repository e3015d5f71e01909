package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.styx.testing.Tiers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader also parses images made by erofs-utils' mkfs.erofs (chunked, with a blob device). */
class ReaderInteropTest {
  @TempDir Path tmp;

  /** Names, types, sizes, executable bits and symlink targets, depth first. */
  static List<String> shape(ErofsNode.Directory d, String path) {
    List<String> out = new ArrayList<>();
    for (ErofsNode.Entry e : d.entries()) {
      String p = path + "/" + e.name();
      switch (e.node()) {
        case ErofsNode.Directory sub -> {
          out.add(p + "/");
          out.addAll(shape(sub, p));
        }
        case ErofsNode.InlineFile f -> out.add(p + " " + f.size() + (f.executable() ? " x" : ""));
        case ErofsNode.ChunkedFile c -> out.add(p + " " + c.size() + (c.executable() ? " x" : ""));
        case ErofsNode.Symlink s -> out.add(p + " -> " + s.targetString());
      }
    }
    return out;
  }

  @Test
  void readsMkfsErofsChunkedImage() throws Exception {
    Tiers.requireCommand("mkfs.erofs");
    Path src = tmp.resolve("src");
    Corpus.generate(src, 9);
    // Keep it quick: drop the two largest files.
    Files.delete(src.resolve("sizes/size-" + ((64L << 20) + 1)));
    Files.delete(src.resolve("sizes/size-" + ((16L << 20) + 1)));
    // mkfs.erofs 1.5 fails ("Could not format the device") on any 255-byte name.
    Path longDir = src.resolve("names/" + "d".repeat(255));
    Files.delete(longDir.resolve("f"));
    Files.delete(longDir);
    Files.delete(src.resolve("names/" + "n".repeat(255)));
    Files.delete(src.resolve("names/" + "é".repeat(127) + "x"));
    Path img = tmp.resolve("mkfs.img");
    Path blob = tmp.resolve("blob");
    Tiers.run(
        tmp,
        "mkfs.erofs",
        "--chunksize=65536",
        "--blobdev=" + blob,
        "-T0",
        img.toString(),
        src.toString());
    ErofsImage theirs = ErofsReader.read(img);
    Corpus.Built ours = Corpus.build(src, tmp.resolve("slab"), tmp.resolve("ours.img"));
    assertEquals(shape(ours.image().root(), ""), shape(theirs.root(), ""));
    assertEquals(1, theirs.devices().size());
  }
}
