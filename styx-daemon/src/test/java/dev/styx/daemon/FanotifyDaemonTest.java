package dev.styx.daemon;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.Zstd;
import dev.styx.api.ApiClient;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.erofs.ErofsWriter;
import dev.styx.kernel.fanotify.FanotifyBackend;
import dev.styx.kernel.fdstore.FdHolder;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEntry;
import dev.styx.nix.StorePath;
import dev.styx.server.ManifesterServer;
import dev.styx.sig.NixKeyring;
import dev.styx.slab.Placement;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6 acceptance through the daemon with {@code --backend fanotify} and an fd holder: lazy
 * mounts hash to their NarHash, mounting fetches no chunk data, reads fetch only what they touch
 * (plus the documented read-ahead), programs run from lazy mounts, parallel readers share fetches,
 * and a dead chunk server or a corrupt chunk gives EIO, never zeros.
 */
class FanotifyDaemonTest {
  @TempDir Path tmp;

  @AfterEach
  void cleanup() throws Exception {
    Testbed.unmountAllUnder(tmp);
  }

  /** An in-process fd holder standing in for systemd's fd store. */
  static final class Holder implements AutoCloseable {
    final Path socket;
    final FdHolder holder;

    Holder(Path socket) throws IOException {
      this.socket = socket;
      holder = FdHolder.bind(socket);
      Thread.ofPlatform()
          .daemon()
          .name("test-fd-holder")
          .start(
              () -> {
                try {
                  holder.serve();
                } catch (IOException e) {
                  // closed
                }
              });
    }

    @Override
    public void close() {
      holder.close();
    }
  }

  static DaemonConfig config(Path dir, Path holder, Duration deadline, Duration fill) {
    return new DaemonConfig(
            dir.resolve("cache"),
            dir.resolve("cache/styx.sock"),
            "rw-------",
            "fanotify",
            Duration.ofMinutes(3),
            16)
        .withLazy(holder, false, deadline, fill);
  }

  static Daemon daemon(Path dir, Path holder, Duration deadline, Duration fill) throws IOException {
    return Daemon.start(
        config(dir, holder, deadline, fill), ErofsWriter::write, new SystemdNotify(null));
  }

  /** The chunked file of {@code m} whose size is closest to {@code size}. */
  static ManifestEntry.ChunkedFile fileNear(Manifest m, long size) {
    ManifestEntry.ChunkedFile best = null;
    for (ManifestEntry e : m.entries()) {
      if (e instanceof ManifestEntry.ChunkedFile f
          && f.digests().size() > 1
          && (best == null || Math.abs(f.size() - size) < Math.abs(best.size() - size))) {
        best = f;
      }
    }
    return best;
  }

  @Test
  void lazyMountsFetchNothingReadsFetchWhatTheyTouchAndHashRight() throws Exception {
    List<String> labels = new ArrayList<>(Testbed.MACHINE_TREES);
    labels.addAll(List.of("file", "symlink", "v1", "thousand"));
    try (Holder h = new Holder(tmp.resolve("holder.sock"));
        Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d =
            daemon(tmp.resolve("d"), h.socket, Duration.ofSeconds(60), Duration.ofSeconds(60))) {
      assertTrue(d.service().backend() instanceof FanotifyBackend, d.service().backend().name());
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      long manifestChunks = 0;
      for (String label : labels) {
        Testbed.manifest(m, Testbed.path(label)); // ingest first: serving counts chunks only
        manifestChunks += Testbed.manifestChunks(m, Testbed.path(label));
      }
      assertTrue(manifestChunks > 0, "the JDK's and zoneinfo's manifests are stored as chunks");
      Path mnt = tmp.resolve("mnt");
      long before = m.chunksServed();
      for (String label : labels) {
        StorePath p = Testbed.path(label);
        ApiClient.Reply r = Testbed.mount(c, p, mnt.resolve(p.baseName()));
        assertEquals(200, r.status(), label + ": " + r.text());
      }
      // Mounting fetches the chunks of large manifests, and no file data.
      assertEquals(before + manifestChunks, m.chunksServed(), "mounting fetched chunk data");
      assertEquals(manifestChunks, d.service().metricsCounters().manifestChunks.sum());
      assertEquals(0, d.db().chunkTotals().present(), "nothing present after lazy mounts");

      // One ~1 MB file of the JDK: its chunks plus at most the read-ahead bound.
      StorePath jdk = Testbed.path("jdk");
      Manifest jm = Testbed.manifest(m, jdk);
      ManifestEntry.ChunkedFile f = fileNear(jm, 1 << 20);
      long fileChunks = f.digests().stream().distinct().count();
      Path mp = mnt.resolve(jdk.baseName());
      // Slabs on ext4 take O_DIRECT, so the mount reads them with direct I/O (no double caching).
      String opts =
          Files.readAllLines(Path.of("/proc/self/mounts")).stream()
              .filter(l -> l.split(" ")[1].equals(mp.toString()))
              .findFirst()
              .orElseThrow();
      assertTrue(opts.contains(",directio"), opts);
      assertTrue(d.service().slabs().isDirect(0), "slab 0 written with O_DIRECT");
      long s0 = m.chunksServed();
      byte[] got = Files.readAllBytes(mp.resolve(f.path().substring(1)));
      assertArrayEquals(
          Files.readAllBytes(Path.of(jdk.toString()).resolve(f.path().substring(1))), got);
      long used = m.chunksServed() - s0;
      System.err.printf(
          "read %s (%d bytes, %d chunks): %d chunks fetched (bound %d)%n",
          f.path(), f.size(), fileChunks, used, fileChunks + ChunkSupply.READ_AHEAD_CHUNKS);
      assertTrue(used >= 1 && used <= fileChunks + ChunkSupply.READ_AHEAD_CHUNKS, "" + used);

      // A program runs from the lazy mount (exec + mmap faults) and fetches only what it touches.
      long s1 = m.chunksServed();
      Process jp =
          new ProcessBuilder(mp.resolve("bin/java").toString(), "-version")
              .redirectErrorStream(true)
              .start();
      String out = new String(jp.getInputStream().readAllBytes());
      assertEquals(0, jp.waitFor(), out);
      assertTrue(out.contains("17."), out);
      long ran = m.chunksServed() - s1;
      long jdkChunks = ImagePlan.chunks(jm).size();
      System.err.printf("java -version: %d of the JDK's %d chunks fetched%n", ran, jdkChunks);
      assertTrue(ran < jdkChunks / 2, ran + " of " + jdkChunks);

      // Warm reads fetch nothing more. Background read-ahead started by java -version may still be
      // finishing: wait until the chunk server has been idle for a second before counting.
      long s2 = awaitIdle(m);
      assertArrayEquals(got, Files.readAllBytes(mp.resolve(f.path().substring(1))));
      assertEquals(s2, m.chunksServed());

      // styx prefetch (the CLI, as a child JVM) of a sub-path, then every mount hashes right.
      Process pf =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "--enable-native-access=ALL-UNNAMED",
                  "-cp",
                  System.getProperty("java.class.path"),
                  "dev.styx.cli.Styx",
                  "prefetch",
                  "--socket",
                  d.config().socket().toString(),
                  mp.resolve("lib").toString())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String summary = new String(pf.getInputStream().readAllBytes());
      assertEquals(0, pf.waitFor(), summary);
      assertTrue(summary.startsWith(jdk.baseName() + "/lib: "), summary);
      assertTrue(summary.contains(" fetched "), summary);
      JsonNode again =
          new ObjectMapper()
              .readTree(
                  c.post("/prefetch", "{\"Path\":\"" + jdk + "/lib\",\"DryRun\":true}").body());
      assertEquals(0, again.path("missingBytes").asLong(), again.toString());
      for (String label : labels) {
        StorePath p = Testbed.path(label);
        assertEquals(Testbed.narHashHex(p), Testbed.dumpHashHex(mnt.resolve(p.baseName())), label);
      }
      FanotifyBackend.Stats st = ((FanotifyBackend) d.service().backend()).stats();
      System.err.println("fanotify: " + st);
      assertEquals(0, st.denied(), st.toString());
    }
  }

  @Test
  void parallelReadersGetCorrectDataAndEachChunkIsFetchedOnce() throws Exception {
    List<String> labels =
        List.of("thousand", "v1", "family0", "family1", "family2", "family3", "family4");
    try (Holder h = new Holder(tmp.resolve("holder.sock"));
        Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d =
            daemon(tmp.resolve("d"), h.socket, Duration.ofSeconds(60), Duration.ofSeconds(60))) {
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      List<Manifest> ms = new ArrayList<>();
      for (String label : labels) {
        ms.add(Testbed.manifest(m, Testbed.path(label)));
      }
      List<Path[]> files = new ArrayList<>(); // {mounted, original}
      for (String label : labels) {
        StorePath p = Testbed.path(label);
        Path mp = tmp.resolve("mnt").resolve(p.baseName());
        assertEquals(200, Testbed.mount(c, p, mp).status());
        try (Stream<Path> s = Files.walk(Path.of(p.toString()))) {
          for (Path o : s.filter(Files::isRegularFile).toList()) {
            files.add(new Path[] {mp.resolve(Path.of(p.toString()).relativize(o).toString()), o});
          }
        }
      }
      assertTrue(files.size() >= 1000, files.size() + " files");
      long s0 = m.chunksServed();
      try (ExecutorService ex = Executors.newFixedThreadPool(8)) {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          List<Path[]> mine = new ArrayList<>(files);
          Collections.shuffle(mine, new Random(t));
          fs.add(
              ex.submit(
                  () -> {
                    for (Path[] f : mine) {
                      assertArrayEquals(
                          Files.readAllBytes(f[1]), Files.readAllBytes(f[0]), f[0].toString());
                    }
                    return mine.size();
                  }));
        }
        for (Future<Integer> f : fs) {
          assertEquals(files.size(), f.get());
        }
      }
      int distinct = Testbed.distinctChunks(ms).size();
      assertTrue(distinct > 10, distinct + " chunks");
      assertEquals(distinct, m.chunksServed() - s0, "each chunk fetched exactly once");
    }
  }

  @Test
  void deadChunkServerGivesEioWithinTheDeadlineAndReadsWorkOnceItIsBack() throws Exception {
    StorePath p = Testbed.path("v1");
    Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
    int port = m.server.address().getPort();
    Manifest man = Testbed.manifest(m, p);
    try (Holder h = new Holder(tmp.resolve("holder.sock"));
        Daemon d =
            daemon(tmp.resolve("d"), h.socket, Duration.ofSeconds(4), Duration.ofSeconds(3))) {
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      Path mp = tmp.resolve("mnt").resolve(p.baseName());
      assertEquals(200, Testbed.mount(c, p, mp).status());
      Path part0 = mp.resolve("lib/part0.bin");
      assertArrayEquals(
          Files.readAllBytes(Path.of(p.toString()).resolve("lib/part0.bin")),
          Files.readAllBytes(part0));
      m.close(); // the chunk server dies
      Path part2 = mp.resolve("lib/part2.bin");
      long t0 = System.nanoTime();
      IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(part2));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.err.println("EIO after " + ms + " ms: " + e);
      assertTrue(ms < 9000, "EIO after " + ms + " ms");
      assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), e.toString());
      // Back on the same port: reads succeed.
      try (ManifesterServer back = restart(m, port)) {
        Thread.sleep(2100); // the backend fails a just-timed-out range at once for 2 s
        assertArrayEquals(
            Files.readAllBytes(Path.of(p.toString()).resolve("lib/part2.bin")),
            Files.readAllBytes(part2));
        assertEquals(Testbed.narHashHex(p), Testbed.dumpHashHex(mp));
      }
      assertEquals(ImagePlan.chunks(man).size(), d.db().chunkTotals().present());
    }
  }

  private ManifesterServer restart(Testbed.Manifester old, int port) throws Exception {
    return new ManifesterServer(
        new ManifesterServer.Config(
            new InetSocketAddress("127.0.0.1", port),
            tmp.resolve("chunkstore"),
            List.of(old.key),
            List.of(Testbed.upstream()),
            NixKeyring.parse(Testbed.nix().publicKey()),
            3,
            4));
  }

  @Test
  void flippedChunkGivesEioAndIsNeverWritten() throws Exception {
    StorePath p = Testbed.path("v2");
    try (Holder h = new Holder(tmp.resolve("holder.sock"));
        Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"));
        Daemon d =
            daemon(tmp.resolve("d"), h.socket, Duration.ofSeconds(20), Duration.ofSeconds(15))) {
      Manifest man = Testbed.manifest(m, p);
      ManifestEntry.ChunkedFile f = fileNear(man, 3 << 20);
      ChunkDigest victim = f.digests().get(1);
      Path vf = tmp.resolve("chunkstore/chunk").resolve(victim.hex());
      byte[] data = ChunkStoreDir.decompressChunk(victim, Files.readAllBytes(vf));
      data[data.length / 2] ^= 0x01;
      Files.write(vf, Zstd.compress(data, 3));
      ApiClient c = new ApiClient(d.config().socket());
      assertEquals(200, Testbed.init(c, m.url(), m.url(), m.publicKey()).status());
      Path mp = tmp.resolve("mnt").resolve(p.baseName());
      assertEquals(200, Testbed.mount(c, p, mp).status());
      Path file = mp.resolve(f.path().substring(1));
      IOException e = assertThrows(IOException.class, () -> Files.readAllBytes(file));
      assertTrue(String.valueOf(e.getMessage()).contains("Input/output error"), e.toString());
      Placement pl = d.db().lookup(victim).orElseThrow();
      assertFalse(pl.present(), "a rejected chunk is not recorded present");
      byte[] onDisk = d.slabs().read(pl.location());
      for (byte b : onDisk) {
        assertEquals(0, b, "no byte of the rejected chunk reached the slab");
      }
      // Other files still read correctly.
      assertEquals("version 2\n", Files.readString(mp.resolve("VERSION")));
    }
  }

  static long counter(String metrics, String name) {
    Matcher mm = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(metrics);
    return mm.find() ? (long) Double.parseDouble(mm.group(1)) : -1;
  }

  /** Waits until the chunk server's served counter has not moved for one second; returns it. */
  private static long awaitIdle(Testbed.Manifester m) throws InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long last = m.chunksServed();
    long stableSince = System.nanoTime();
    while (System.nanoTime() - stableSince < 1_000_000_000L) {
      assertTrue(System.nanoTime() < deadline, "chunk server never went idle");
      Thread.sleep(100);
      long now = m.chunksServed();
      if (now != last) {
        last = now;
        stableSince = System.nanoTime();
      }
    }
    return last;
  }
}
