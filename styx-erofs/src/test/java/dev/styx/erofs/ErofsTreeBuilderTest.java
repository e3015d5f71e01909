package dev.styx.erofs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Path-addressed assembly of trees, in manifest (parents first) order. */
class ErofsTreeBuilderTest {
  @Test
  void buildsNestedTreeFromPaths() throws Exception {
    ErofsNode.Directory t =
        new ErofsTreeBuilder()
            .directory("/bin")
            .leaf("/bin/sh", ErofsNode.InlineFile.of("#!", true))
            .directory("/share")
            .directory("/share/doc")
            .leaf("/share/doc/README", ErofsNode.InlineFile.of("hi", false))
            .leaf("/link", ErofsNode.Symlink.of("bin/sh"))
            .directory("/empty")
            .build();
    ErofsNode.Directory want =
        ErofsNode.Directory.of(
            new ErofsNode.Entry(
                "bin",
                ErofsNode.Directory.of(
                    new ErofsNode.Entry("sh", ErofsNode.InlineFile.of("#!", true)))),
            new ErofsNode.Entry(
                "share",
                ErofsNode.Directory.of(
                    new ErofsNode.Entry(
                        "doc",
                        ErofsNode.Directory.of(
                            new ErofsNode.Entry("README", ErofsNode.InlineFile.of("hi", false)))))),
            new ErofsNode.Entry("link", ErofsNode.Symlink.of("bin/sh")),
            new ErofsNode.Entry("empty", ErofsNode.Directory.of()));
    assertEquals(want, t);
    assertEquals(want, ErofsReader.read(ErofsWriter.write(new ErofsImage(t, List.of()))).root());
  }

  @Test
  void rejectsOrphansDuplicatesAndBadPaths() {
    InvalidTreeException e =
        assertThrows(
            InvalidTreeException.class,
            () -> new ErofsTreeBuilder().leaf("/a/b", ErofsNode.InlineFile.of("x", false)));
    assertTrue(e.getMessage().contains("not added before"), e.getMessage());
    assertThrows(
        InvalidTreeException.class, () -> new ErofsTreeBuilder().directory("/a").directory("/a"));
    assertThrows(
        InvalidTreeException.class,
        () -> new ErofsTreeBuilder().directory("/a").leaf("/a", ErofsNode.Symlink.of("x")));
    for (String bad : List.of("a", "/a/", "//a", "")) {
      assertThrows(InvalidTreeException.class, () -> new ErofsTreeBuilder().directory(bad));
    }
    // Two leaves with one name: the writer reports the path.
    ErofsNode.Directory dup =
        new ErofsTreeBuilder()
            .leaf("/x", ErofsNode.InlineFile.of("1", false))
            .leaf("/x", ErofsNode.InlineFile.of("2", false))
            .build();
    assertEquals(
        "/x",
        assertThrows(
                InvalidTreeException.class, () -> ErofsWriter.write(new ErofsImage(dup, List.of())))
            .path());
  }
}
