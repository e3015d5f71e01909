package dev.styx.daemon;

import dev.styx.api.ApiClient;
import dev.styx.chunk.ChunkDigest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEntry;
import dev.styx.nix.StorePath;
import dev.styx.slab.Placement;
import dev.styx.slab.SlabLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * {@code scripts/bench-daemon}: the issue-5 budgets, both sides of each ratio from one run.
 *
 * <ol>
 *   <li>eager fetch of the JDK path (~260 MB) from a loopback manifester vs a plain JDK HttpClient
 *       GETting the same chunks at the same concurrency (budget >= 0.5x);
 *   <li>warm reads of every file through the mount vs the same bytes read from the slab file
 *       (budget >= 0.9x);
 *   <li>mount latency of a 1,000-file path with the manifest cached and all chunks present (budget:
 *       median <= 50 ms).
 * </ol>
 */
public final class DaemonBench {
  private DaemonBench() {}

  public static void main(String[] args) throws Exception {
    int concurrency = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path tmp = Files.createTempDirectory("styx-bench-daemon");
    try {
      System.err.println("bench-daemon: building the Nix cache fixture (first run takes a while)");
      StorePath jdk = Testbed.path("jdk");
      StorePath thousand = Testbed.path("thousand");
      try (Testbed.Manifester m = new Testbed.Manifester(tmp.resolve("chunkstore"))) {
        Manifest jm = Testbed.manifest(m, jdk);
        Testbed.manifest(m, thousand);
        Map<ChunkDigest, Integer> chunks = Testbed.distinctChunks(List.of(jm));
        long chunkBytes = chunks.values().stream().mapToLong(i -> i).sum();

        // 1. Plain client at the same concurrency, then the daemon's eager mount.
        double plain = BenchIo.plainFetch(m.url(), new ArrayList<>(chunks.keySet()), concurrency);
        DaemonConfig cfg =
            new DaemonConfig(
                tmp.resolve("cache"),
                tmp.resolve("cache/styx.sock"),
                "rw-------",
                "eager",
                Duration.ofMinutes(10),
                concurrency);
        try (Daemon d =
            Daemon.start(cfg, dev.styx.erofs.ErofsWriter::write, new SystemdNotify(null))) {
          ApiClient c = new ApiClient(cfg.socket());
          Testbed.init(c, m.url(), m.url(), m.publicKey());
          Path jmp = tmp.resolve("mnt").resolve(jdk.baseName());
          long t0 = System.nanoTime();
          check(Testbed.mount(c, jdk, jmp));
          double daemon = (System.nanoTime() - t0) / 1e9;
          double mbPlain = chunkBytes / plain / 1e6;
          double mbDaemon = chunkBytes / daemon / 1e6;
          System.out.printf(
              "fetch %d chunks, %.1f MB, concurrency %d: daemon eager mount %.2f s (%.0f MB/s), plain"
                  + " HTTP client %.2f s (%.0f MB/s): ratio %.2fx (budget >= 0.5x)%n",
              chunks.size(),
              chunkBytes / 1e6,
              concurrency,
              daemon,
              mbDaemon,
              plain,
              mbPlain,
              mbDaemon / mbPlain);

          // 2. Warm reads: every chunked file through the mount vs the same ranges of the slab.
          List<Path> files = new ArrayList<>();
          List<SlabLocation> ranges = new ArrayList<>();
          for (ManifestEntry e : jm.entries()) {
            if (e instanceof ManifestEntry.ChunkedFile f) {
              files.add(jmp.resolve(e.path().substring(1)));
              for (ChunkDigest dg : f.digests()) {
                Placement p = d.db().lookup(dg).orElseThrow();
                ranges.add(p.location());
              }
            }
          }
          BenchIo.readFiles(files); // warm
          BenchIo.readSlab(d, ranges);
          double bestMount = Double.MAX_VALUE;
          double bestSlab = Double.MAX_VALUE;
          long bytes = 0;
          for (int i = 0; i < reps; i++) {
            long t1 = System.nanoTime();
            bytes = BenchIo.readFiles(files);
            bestMount = Math.min(bestMount, (System.nanoTime() - t1) / 1e9);
            long t2 = System.nanoTime();
            long sb = BenchIo.readSlab(d, ranges);
            bestSlab = Math.min(bestSlab, (System.nanoTime() - t2) / 1e9);
            if (sb != bytes) {
              throw new AssertionError("slab side read " + sb + " bytes, mount side " + bytes);
            }
          }
          System.out.printf(
              "warm read %.1f MB (%d files): through the mount %.0f MB/s, slab file directly %.0f"
                  + " MB/s: ratio %.2fx (budget >= 0.9x)%n",
              bytes / 1e6,
              files.size(),
              bytes / bestMount / 1e6,
              bytes / bestSlab / 1e6,
              bestSlab / bestMount);

          // 3. Mount latency: manifest cached, chunks present.
          Path tmp2 = tmp.resolve("mnt").resolve(thousand.baseName());
          check(Testbed.mount(c, thousand, tmp2));
          List<Double> ms = new ArrayList<>();
          for (int i = 0; i < 21; i++) {
            check(Testbed.umount(c, thousand));
            long t3 = System.nanoTime();
            check(Testbed.mount(c, thousand, tmp2));
            ms.add((System.nanoTime() - t3) / 1e6);
          }
          Collections.sort(ms);
          System.out.printf(
              "mount latency, 1,000-file path, manifest cached, chunks present: median %.1f ms"
                  + " (min %.1f, max %.1f, n=%d) (budget <= 50 ms)%n",
              ms.get(ms.size() / 2), ms.getFirst(), ms.getLast(), ms.size());
        } finally {
          Testbed.unmountAllUnder(tmp);
        }
      }
    } finally {
      Testbed.unmountAndDelete(tmp);
    }
    System.exit(0); // the fixture's static HTTP server thread would keep the JVM alive
  }

  private static void check(ApiClient.Reply r) {
    if (r.status() != 200) {
      throw new AssertionError("daemon said " + r.status() + ": " + r.text());
    }
  }
}
