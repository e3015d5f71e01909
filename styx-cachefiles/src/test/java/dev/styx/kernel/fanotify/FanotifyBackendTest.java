package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Backend;
import dev.styx.kernel.BlobCopyFiller;
import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.Syscalls;
import dev.styx.testing.Tiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fanotify backend against the real kernel: a real EROFS image mounted file-backed over an
 * all-holes slab, filled on demand from the real blob by pre-content events.
 */
class FanotifyBackendTest {
  @TempDir Path tmp;
  private ErofsFixture fx;
  private Path target;
  private int writeFd = -1;
  private FanotifyBackend backend;
  private boolean mounted;

  @BeforeEach
  void setUp() throws Exception {
    Tiers.requireRoot();
    fx = ErofsFixture.build(tmp);
    target = Files.createDirectories(tmp.resolve("mnt"));
    // Opened before the slab is marked: writes through it raise no events.
    writeFd = Syscalls.open(fx.slab, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (mounted) {
      backend.unmount(target);
    }
    if (backend != null) {
      backend.close();
    }
    if (writeFd >= 0) {
      Syscalls.close(writeFd);
    }
  }

  private Backend.Slab startAndMount(SlabFiller filler, Duration deadline) throws IOException {
    backend =
        new FanotifyBackend(
            new FanotifyOptions(
                deadline,
                tmp.resolve("inflight.journal"),
                true,
                FanotifyOptions.DEFAULT_READ_AHEAD_KB),
            null);
    backend.start(filler);
    Backend.Slab slab = new Backend.Slab(0, fx.slab, writeFd);
    backend.attachSlab(slab);
    backend.mount(fx.image, List.of(slab), target);
    mounted = true;
    return slab;
  }

  @Test
  void probeSaysSupportedOnThisKernel() {
    Optional<String> reason = FanotifyBackend.probe(tmp);
    assertTrue(reason.isEmpty(), () -> "probe refused: " + reason.get());
    // /proc accepts no files: the probe must explain, not guess.
    Optional<String> bad = FanotifyBackend.probe(Path.of("/proc"));
    assertTrue(bad.isPresent() && bad.get().contains("/proc"), () -> "probe of /proc: " + bad);
  }

  @Test
  void probeRefusesAFilesystemWithoutPreContentSupport() throws Exception {
    // tmpfs does not allow pre-content marks (no SB_I_ALLOW_HSM): slabs must not live there.
    Path t = Files.createDirectories(tmp.resolve("tmpfs"));
    Syscalls.mount("tmpfs", t, "tmpfs", 0, "size=1m");
    try {
      Optional<String> reason = FanotifyBackend.probe(t);
      assertTrue(
          reason.isPresent() && reason.get().contains("does not support pre-content events"),
          () -> "probe on tmpfs: " + reason);
    } finally {
      Syscalls.umount(t, 0);
    }
  }

  @Test
  void refusesToStartWithoutAnFdStore() {
    FanotifyBackend b =
        new FanotifyBackend(FanotifyOptions.defaults(tmp.resolve("j")), /* fdStore= */ null);
    IOException e = assertThrows(IOException.class, () -> b.start((s, o, l) -> {}));
    assertTrue(e.getMessage().contains("--fanotify-allow-no-fdstore"), e.getMessage());
  }

  @Test
  void mountFetchesNothingAndReadsFillOnlyWhatIsTouched() throws Exception {
    try (BlobCopyFiller filler = new BlobCopyFiller(fx.blob, writeFd)) {
      startAndMount(filler, Duration.ofSeconds(30));
      assertEquals(0, filler.requests.size(), "mount alone must fetch nothing");
      assertEquals(0, Syscalls.allocatedBytes(writeFd), "slab still all holes after mount");

      byte[] mid = fx.files.get("sub/mid.bin");
      assertArrayEquals(mid, Files.readAllBytes(target.resolve("sub/mid.bin")));
      long at = fx.locate(mid);
      assertTrue(at >= 0, "file data found in blob");
      long extentEnd = at + ((mid.length + 65535) / 65536) * 65536L;
      for (BlobCopyFiller.Request r : filler.requests) {
        assertTrue(
            r.offset() >= at && r.offset() + r.length() <= extentEnd,
            () -> "request " + r + " outside the file's chunks [" + at + ", " + extentEnd + ")");
      }
      long fetched = filler.uniqueBytes();
      assertTrue(fetched >= mid.length, "at least the file was filled: " + fetched);
      long blobSize = Files.size(fx.blob);
      assertTrue(fetched < blobSize / 2, "fetched " + fetched + " of " + blobSize);
      assertTrue(Syscalls.allocatedBytes(writeFd) < blobSize / 2, "slab stays sparse");

      // Everything else, compared byte for byte; the duplicate shares chunks and the tiny file is
      // inline in the metadata image (no events for either).
      for (Map.Entry<String, byte[]> e : fx.files.entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(target.resolve(e.getKey())), e.getKey());
      }
      // Warm: present data raises events again (the kernel does not know about presence) but the
      // filler answers at once; contents stay correct.
      for (Map.Entry<String, byte[]> e : fx.files.entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(target.resolve(e.getKey())), e.getKey());
      }
      FanotifyBackend.Stats st = backend.stats();
      assertEquals(0, st.denied());
      assertTrue(st.allowed() >= filler.requests.size() - 1, st.toString());
      assertEquals(0, backend.inFlight());
    }
  }

  @Test
  void parallelReadersGetCorrectDataAndEachChunkIsFilledOnce() throws Exception {
    int blobFd = Syscalls.open(fx.blob, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    try {
      ChunkCopyFiller filler = new ChunkCopyFiller(blobFd, writeFd, Files.size(fx.blob));
      startAndMount(filler, Duration.ofSeconds(30));
      List<String> names = List.copyOf(fx.files.keySet());
      java.util.concurrent.ConcurrentLinkedQueue<String> bad =
          new java.util.concurrent.ConcurrentLinkedQueue<>();
      List<Thread> readers = new java.util.ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int start = t;
        readers.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; i < names.size(); i++) {
                        String n = names.get((i + start * 3) % names.size());
                        try {
                          if (!java.util.Arrays.equals(
                              fx.files.get(n), Files.readAllBytes(target.resolve(n)))) {
                            bad.add(n);
                          }
                        } catch (IOException e) {
                          bad.add(n + ": " + e);
                        }
                      }
                    }));
      }
      for (Thread t : readers) {
        t.join(60_000);
      }
      assertTrue(bad.isEmpty(), "wrong or failed reads: " + bad);
      int filled = 0;
      for (int c = 0; c < filler.copies.length(); c++) {
        assertTrue(filler.copies.get(c) <= 1, "chunk " + c + " copied " + filler.copies.get(c));
        filled += filler.copies.get(c);
      }
      assertTrue(filled > 0);
      assertEquals(0, backend.stats().denied());
    } finally {
      Syscalls.close(blobFd);
    }
  }

  @Test
  void execAndMmapFromTheMountWork() throws Exception {
    try (BlobCopyFiller filler = new BlobCopyFiller(fx.blob, writeFd)) {
      startAndMount(filler, Duration.ofSeconds(30));
      Process p = new ProcessBuilder(target.resolve("bin/true").toString()).start();
      assertEquals(0, p.waitFor(), "exec of a program on the lazy mount");
      assertFalse(filler.requests.isEmpty(), "exec page faults raised events");
      assertTrue(filler.uniqueBytes() <= fx.files.get("bin/true").length + 65536);
      // Page faults of a plain mmap raise events too.
      byte[] big = fx.files.get("big.bin");
      try (java.nio.channels.FileChannel ch =
          java.nio.channels.FileChannel.open(target.resolve("big.bin"))) {
        java.nio.MappedByteBuffer m =
            ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, big.length);
        int before = filler.requests.size();
        for (int at : new int[] {700_000, 0, big.length - 1, 123_457}) {
          assertEquals(big[at], m.get(at), "byte " + at + " through a page fault");
        }
        assertTrue(filler.requests.size() > before, "faults raised events");
      }
    }
  }

  @Test
  void failingFillGivesTheReaderEioNotZeros() throws Exception {
    AtomicReference<String> mode = new AtomicReference<>("fail");
    try (BlobCopyFiller good = new BlobCopyFiller(fx.blob, writeFd)) {
      SlabFiller f =
          (slab, off, len) -> {
            if (mode.get().equals("fail")) {
              throw new IOException("chunk server unreachable (injected)");
            }
            good.fill(slab, off, len);
          };
      startAndMount(f, Duration.ofSeconds(30));
      IOException e =
          assertThrows(IOException.class, () -> Files.readAllBytes(target.resolve("big.bin")));
      assertTrue(
          String.valueOf(e.getMessage()).contains("Input/output error"),
          "reader sees EIO: " + e.getMessage());
      assertEquals(0, Syscalls.allocatedBytes(writeFd), "nothing written");
      assertTrue(backend.stats().denied() >= 1);
      mode.set("ok");
      assertArrayEquals(fx.files.get("big.bin"), Files.readAllBytes(target.resolve("big.bin")));
    }
  }

  @Test
  void stuckFillIsDeniedAtTheDeadline() throws Exception {
    AtomicReference<String> mode = new AtomicReference<>("stuck");
    BlobCopyFiller good = new BlobCopyFiller(fx.blob, writeFd);
    SlabFiller stuck =
        (slab, off, len) -> {
          if (mode.get().equals("ok")) {
            good.fill(slab, off, len);
            return;
          }
          try {
            Thread.sleep(60_000);
          } catch (InterruptedException e) {
            throw new IOException("interrupted");
          }
        };
    startAndMount(stuck, Duration.ofMillis(700));
    long t0 = System.nanoTime();
    IOException e =
        assertThrows(IOException.class, () -> Files.readAllBytes(target.resolve("sub/odd.bin")));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), e.getMessage());
    // The kernel retries a denied read-ahead with a synchronous read of the same page; that retry
    // fails at once. The file's two chunks are two ranges, so the reader waits at most two
    // deadlines (three before timeouts were remembered).
    assertTrue(ms >= 600 && ms < 2_000, "denied within two deadlines, took " + ms + " ms");
    assertTrue(backend.stats().timedOut() >= 1);
    // Once the source is back (and the brief memory of the timeout has passed) reads succeed.
    mode.set("ok");
    Thread.sleep(2_100);
    assertArrayEquals(
        fx.files.get("sub/odd.bin"), Files.readAllBytes(target.resolve("sub/odd.bin")));
    good.close();
  }
}
