package dev.styx.kernel.cachefiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image store (fsid by content) and the device-table reader, on real mkfs.erofs images. */
class ImageStoreTest {
  @TempDir Path tmp;

  private Path mkfs(String name, String uuid) throws Exception {
    Tiers.requireCommand("mkfs.erofs");
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    Files.write(src.resolve("data"), new byte[200_000]);
    Path img = tmp.resolve(name);
    Tiers.run(
        tmp,
        "mkfs.erofs",
        "--quiet",
        "-T0",
        "-U" + uuid,
        "--chunksize=65536",
        "--blobdev=" + tmp.resolve(name + ".blob"),
        img.toString(),
        src.toString());
    return img;
  }

  @Test
  void fsidFollowsContentAndSurvivesTheCallersFile() throws Exception {
    Path a = mkfs("a.img", "11111111-2222-3333-4444-555555555555");
    Path b = mkfs("b.img", "66666666-7777-8888-9999-000000000000");
    ImageStore store = new ImageStore(tmp.resolve("cache"));
    ImageStore.Image ia = store.register(a);
    ImageStore.Image ia2 = store.register(a);
    ImageStore.Image ib = store.register(b);
    assertEquals(ia, ia2);
    assertNotEquals(ia.fsid(), ib.fsid());
    assertTrue(ia.fsid().matches("styx-img-[0-9a-f]{32}"), ia.fsid());
    assertEquals(Files.size(a), ia.size());
    Files.delete(a);
    assertEquals(ia, new ImageStore(tmp.resolve("cache")).lookup(ia.fsid()).orElseThrow());
    try (var s = Files.list(tmp.resolve("cache/images"))) {
      assertEquals(2, s.count(), "no temp files left behind");
    }
  }

  @Test
  void lookupRejectsHostileAndUnknownNames() throws Exception {
    ImageStore store = new ImageStore(tmp.resolve("cache"));
    store.register(mkfs("a.img", "11111111-2222-3333-4444-555555555555"));
    Files.writeString(tmp.resolve("cache/secret"), "x");
    for (String bad :
        List.of(
            "../secret",
            "styx-img-../../secret",
            "styx-img-" + "0".repeat(32),
            "",
            "a/b",
            "styx-img-" + "A".repeat(32))) {
      assertFalse(store.lookup(bad).isPresent(), "served " + bad);
    }
  }

  @Test
  void refusesImagesThatAreNotWholeBlocks() throws IOException {
    Path odd = tmp.resolve("odd");
    Files.write(odd, new byte[5000]);
    ImageStore store = new ImageStore(tmp.resolve("cache"));
    assertThrows(IOException.class, () -> store.register(odd));
  }

  @Test
  void readsAndRetagsDeviceTables() throws Exception {
    Path a = mkfs("a.img", "11111111-2222-3333-4444-555555555555");
    assertEquals(List.of(""), ImageDevices.tags(a), "mkfs.erofs leaves the blob's tag empty");
    CachefilesFixture.retag(a, CachefilesBackend.slabTag(3));
    assertEquals(List.of("styx-slab-3"), ImageDevices.tags(a));
    // The recomputed superblock checksum must satisfy fsck.erofs.
    Tiers.requireCommand("fsck.erofs");
    Tiers.run(tmp, "fsck.erofs", "--device=" + tmp.resolve("a.img.blob"), a.toString());
    Path notErofs = tmp.resolve("zeros");
    Files.write(notErofs, new byte[8192]);
    assertThrows(IOException.class, () -> ImageDevices.tags(notErofs));
  }
}
