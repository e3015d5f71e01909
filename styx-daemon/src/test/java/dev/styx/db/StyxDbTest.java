package dev.styx.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.ChunkRef;
import dev.styx.slab.Placement;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LMDB metadata store, on a real LMDB environment. */
class StyxDbTest {
  @TempDir Path tmp;

  private static ChunkRef ref(int i, int len) {
    return new ChunkRef(ChunkDigest.of(("chunk " + i).getBytes()), len);
  }

  @Test
  void placesChunksBlockAlignedOnceAndFindsThemBothWays() throws Exception {
    try (StyxDb db = StyxDb.open(tmp.resolve("db"))) {
      List<Placement> a = db.place(List.of(ref(1, 65536), ref(2, 5000), ref(1, 65536), ref(3, 1)));
      assertEquals(4, a.size());
      assertEquals(0, a.get(0).location().block());
      assertEquals(16, a.get(1).location().block());
      assertEquals(a.get(0), a.get(2), "a repeated digest is placed once");
      assertEquals(18, a.get(3).location().block());
      // A second batch reuses known placements and appends new ones.
      List<Placement> b = db.place(List.of(ref(2, 5000), ref(4, 4096)));
      assertEquals(a.get(1).location(), b.get(0).location());
      assertEquals(19, b.get(1).location().block());
      assertEquals(20L, db.slabUsage().get(0));
      // Reverse lookup: any byte of a chunk's blocks finds it; past the end finds nothing.
      assertEquals(ref(2, 5000).digest(), db.at(0, 16 * 4096 + 8191).orElseThrow().digest());
      assertEquals(ref(1, 65536).digest(), db.at(0, 100).orElseThrow().digest());
      assertEquals(Optional.empty(), db.at(0, 20 * 4096));
      assertEquals(Optional.empty(), db.at(1, 0));
      assertThrows(
          IllegalStateException.class, () -> db.place(List.of(ref(1, 1000))), "length conflict");
    }
  }

  @Test
  void presenceIsOnlyWhatWasMarkedAndSurvivesReopening() throws Exception {
    List<ChunkDigest> ds = new ArrayList<>();
    try (StyxDb db = StyxDb.open(tmp.resolve("db"))) {
      for (Placement p : db.place(List.of(ref(1, 100), ref(2, 200), ref(3, 300)))) {
        assertFalse(p.present());
        ds.add(p.digest());
      }
      db.markPresent(List.of(ds.get(0), ds.get(2)));
      assertThrows(IllegalStateException.class, () -> db.markPresent(List.of(ref(9, 1).digest())));
    }
    try (StyxDb db = StyxDb.open(tmp.resolve("db"))) {
      assertTrue(db.lookup(ds.get(0)).orElseThrow().present());
      assertFalse(db.lookup(ds.get(1)).orElseThrow().present());
      assertTrue(db.lookup(ds.get(2)).orElseThrow().present());
      StyxDb.ChunkTotals t = db.chunkTotals();
      assertEquals(new StyxDb.ChunkTotals(3, 2, 600, 400), t);
    }
  }

  @Test
  void imageStateChangesFollowTheStateMachine() throws Exception {
    try (StyxDb db = StyxDb.open(tmp.resolve("db"))) {
      String sp = "0123456789abcdfghijklmnpqrsvwxyz-x";
      db.updateImage(sp, old -> ImageRecord.requested(sp, "http://u", "/mnt/x", "eager", 5));
      db.updateImage(sp, old -> old.to(ImageState.FETCHING, null));
      assertThrows(
          IllegalStateException.class,
          () -> db.updateImage(sp, old -> old.to(ImageState.UNMOUNTED, null)));
      assertEquals(ImageState.FETCHING, db.image(sp).orElseThrow().state(), "aborted change");
      db.updateImage(sp, old -> old.to(ImageState.MOUNTED, null));
      db.updateImage(sp, old -> old.to(ImageState.UNMOUNTING, null));
      db.updateImage(sp, old -> old.to(ImageState.UNMOUNTED, null));
      assertTrue(db.image(sp).orElseThrow().state().acceptsMountRequest());
      assertEquals(1, db.images().size());
      db.putParams(new DaemonParams("http://m", "http://c", List.of("k:AAAA")));
      assertEquals("http://c", db.params().orElseThrow().chunksUrl());
    }
  }

  @Test
  void writeTransactionsFromVirtualThreadsRunOnOnePlatformThread() throws Exception {
    // Each body blocks on a contended monitor, which on JDK 24+ unmounts a virtual thread and may
    // resume it on another carrier: LMDB's writer mutex must never see that.
    Object contended = new Object();
    java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    try (StyxDb db = StyxDb.open(tmp.resolve("db"));
        var ex = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        int n = i;
        fs.add(
            ex.submit(
                () -> {
                  synchronized (contended) {
                    Thread.sleep(1);
                  }
                  db.write(
                      txn -> {
                        threads.add(
                            (Thread.currentThread().isVirtual() ? "virtual " : "")
                                + Thread.currentThread().getName());
                        synchronized (contended) {
                          Thread.onSpinWait();
                        }
                        return null;
                      });
                  db.place(List.of(ref(1000 + n, 4096)));
                  return null;
                }));
      }
      for (var f : fs) {
        f.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      assertEquals(java.util.Set.of("styx-db-write"), threads);
      assertEquals(64L, db.slabUsage().get(0), "64 one-block chunks placed, none lost");
    }
  }
}
