package dev.styx.server;

import com.github.luben.zstd.ZstdCompressCtx;
import dev.styx.chunk.ChunkDigest;
import dev.styx.chunk.ChunkPolicy;
import dev.styx.chunkstore.ChunkStoreDir;
import dev.styx.hash.Sha256;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.Jit;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.tukaani.xz.XZInputStream;

/**
 * Ingest budgets (issue 4), both sides of each ratio from one run, best of N:
 *
 * <ol>
 *   <li>ingest of an uncompressed NAR (compression=none cache) vs zstd level-3 compression of the
 *       same bytes with one zstd worker per core (budget >= 0.8x);
 *   <li>ingest of a .nar.xz vs decompressing the same .nar.xz alone with `xz -dc` to /dev/null
 *       (liblzma, the fastest decoder on the machine, which ingest runs in process; budget >=
 *       0.9x). The Java decoder fallback (org.tukaani.xz, both sides) is printed too.
 * </ol>
 *
 * Ingest = the manifester's whole path minus HTTP: narinfo + signature check, NAR streamed,
 * FileHash/NarHash verified, NAR parsed, chunks hashed, zstd-compressed at the chunk store's level
 * ({@link #LEVEL}; also at level 3 beside it, {@link #LEVEL3_SIDE}) and written to a fresh chunk
 * store, manifest signed and stored. Measured warm, as a long-running manifester runs: one {@link
 * Service} (CPU pool, ingest pool, chunk pipeline) serves every ingest, each into a fresh store,
 * and {@code styx.bench.warmups} (default 4) unmeasured ingests come first, then a wait for the JIT
 * to settle. Also printed: the chunk store's size, the ingest CPU floor ({@link Floor}), the
 * ingest's CPU by thread role ({@link #cpuByRole}) and the arrays its pipeline had to allocate. The
 * JVM runs with the default heap, as {@code styx manifester} does (a quarter of the RAM): with
 * {@code -Xmx2g} the zstd side's arrays (the NAR and its output) kept that heap mostly full, and G1
 * ran concurrent cycles and mixed collections during ingests that a manifester would not run.
 * Usage: IngestBench WORK NONE_CACHE XZ_CACHE STOREPATH PUBKEY [REPS]; with {@code
 * -Dstyx.bench.xz=false} XZ_CACHE is not read.
 */
public final class IngestBench {
  private IngestBench() {}

  public static void main(String[] a) throws Exception {
    Path work = Path.of(a[0]);
    Path none = Path.of(a[1]);
    Path xz = Path.of(a[2]);
    StorePath sp = StorePath.parse(a[3]);
    NixKeyring keys = NixKeyring.of(NixPublicKey.parse(a[4]));
    int reps = a.length > 5 ? Integer.parseInt(a[5]) : 3;
    int cores = Runtime.getRuntime().availableProcessors();
    NarInfo niNone = NarInfo.parse(Files.readString(none.resolve(sp.hashPart() + ".narinfo")));
    Path narFile = none.resolve(niNone.url());
    long narSize = niNone.narSize();
    System.out.printf("store path %s: NAR %.1f MB, %d cores%n", sp, narSize / 1e6, cores);
    System.out.printf(
        "manifester threads, zstd contexts and buffers: %s%n",
        SERVICE_PER_INGEST ? "new for every ingest" : "one long-lived set (as deployed)");
    Path xzFile = XZ_PARTS ? xzNar(xz, sp) : null;

    byte[] nar = Files.readAllBytes(narFile);
    // A manifester is a long-running service: measure it warm. Ingest runs its per-chunk code about
    // 2,000 times per JDK NAR, so the first few ingests still run partly interpreted or C1-compiled
    // and C2 compiles beside them (10% of the CPU of the 3rd and 4th ingests in a perf profile).
    int warmups = Integer.getInteger("styx.bench.warmups", 4);
    long w0 = System.nanoTime();
    for (int i = 0; i < warmups; i++) {
      timeIngest(work, none, sp, keys);
      if (LEVEL3_SIDE) {
        timeIngest(work, none, sp, keys, 3);
      }
      timeZstd(nar, cores);
    }
    if (warmups > 0) {
      long quiet = Jit.awaitQuiet();
      System.out.printf(
          "warm-up: %d ingests in %.1f s, JIT settled after %.1f s more%n",
          warmups, (System.nanoTime() - w0 - quiet) / 1e9, quiet / 1e9);
    }
    // Each side of a ratio is measured right after the other, so a paired ratio sees about the same
    // machine load; the summary gives best-of-N throughputs and the median and range of the paired
    // ratios (the machine may be shared).
    double[][] mbps = new double[SLOTS][reps];
    long[] narNewArrays = {0, 0};
    String zstdCli = zstdCliVersion();
    for (int r = 0; r < reps; r++) {
      mbps[0][r] = mbps(narSize, measure(0, narSize, () -> timeZstd(nar, cores)));
      if (zstdCli != null) {
        mbps[6][r] =
            mbps(
                narSize,
                measure(
                    6,
                    narSize,
                    () -> timeCommand("zstd", "-3", "-T" + cores, "-q", "-c", narFile.toString())));
      }
      mbps[1][r] = mbps(narSize, measure(1, narSize, () -> timeIngest(work, none, sp, keys)));
      narNewArrays = lastIngestNewArrays; // the ingests after it in this rep overwrite that
      String cli =
          zstdCli == null
              ? ""
              : String.format(
                  ", zstd CLI -3 -T%d %.0f MB/s (%.2fx)",
                  cores, mbps[6][r], mbps[1][r] / mbps[6][r]);
      if (LEVEL3_SIDE) {
        mbps[8][r] = mbps(narSize, measure(8, narSize, () -> timeIngest(work, none, sp, keys, 3)));
        cli +=
            String.format(
                ", ingest .nar at level 3 %.0f MB/s (%.2fx)", mbps[8][r], mbps[8][r] / mbps[0][r]);
      }
      if (!XZ_PARTS) {
        System.out.printf(
            "rep %d: zstd-3 x%d %.0f MB/s, ingest .nar %.0f MB/s (%.2fx)%s%n",
            r + 1, cores, mbps[0][r], mbps[1][r], mbps[1][r] / mbps[0][r], cli);
        continue;
      }
      mbps[2][r] =
          mbps(narSize, measure(2, narSize, () -> timeCommand("xz", "-dc", xzFile.toString())));
      // xz's own multi-threaded decoding (-T0: one thread per core), as ingest decodes by default.
      mbps[7][r] =
          mbps(
              narSize,
              measure(7, narSize, () -> timeCommand("xz", "-dc", "-T0", xzFile.toString())));
      mbps[3][r] = mbps(narSize, measure(3, narSize, () -> timeIngest(work, xz, sp, keys)));
      mbps[4][r] = mbps(narSize, measure(4, narSize, () -> timeXz(xzFile)));
      mbps[5][r] =
          mbps(narSize, measure(5, narSize, () -> inProcess(() -> timeIngest(work, xz, sp, keys))));
      System.out.printf(
          "rep %d: zstd-3 x%d %.0f MB/s, ingest .nar %.0f MB/s (%.2fx)%s | xz -dc %.0f MB/s,"
              + " ingest .nar.xz %.0f MB/s (%.2fx), xz -dc -T0 %.0f MB/s (%.2fx) | Java xz decode"
              + " %.0f MB/s, ingest .nar.xz (Java decoder) %.0f MB/s (%.2fx)%n",
          r + 1,
          cores,
          mbps[0][r],
          mbps[1][r],
          mbps[1][r] / mbps[0][r],
          cli,
          mbps[2][r],
          mbps[3][r],
          mbps[3][r] / mbps[2][r],
          mbps[7][r],
          mbps[3][r] / mbps[7][r],
          mbps[4][r],
          mbps[5][r],
          mbps[5][r] / mbps[4][r]);
    }
    printStoreSize(LEVEL, lastStore.get(LEVEL), narSize);
    if (LEVEL3_SIDE) {
      printStoreSize(3, lastStore.get(3), narSize);
    }
    Floor floor = floor(nar, Path.of(sp.toString()));
    for (int i = 1; i <= STORES.get(); i++) {
      delete(work.resolve("store-" + i));
    }
    System.out.println();
    System.out.printf(
        "zstd level 3 on %d cores (zstd-jni, %d workers):  %7.0f MB/s (best of %d)%n",
        cores, cores, max(mbps[0]), reps);
    System.out.printf(
        "ingest of the uncompressed NAR:                  %7.0f MB/s  ratio of bests %.2fx,"
            + " paired %s (budget >= 0.80x)%n",
        max(mbps[1]), max(mbps[1]) / max(mbps[0]), paired(mbps[1], mbps[0]));
    if (zstdCli != null) {
      System.out.printf(
          "zstd -3 -T%d (the CLI, %s, to /dev/null):   %7.0f MB/s (best of %d); ingest ratio of"
              + " bests %.2fx, paired %s (budget >= 0.80x)%n",
          cores,
          zstdCli,
          max(mbps[6]),
          reps,
          max(mbps[1]) / max(mbps[6]),
          paired(mbps[1], mbps[6]));
    }
    if (LEVEL3_SIDE) {
      String vsCli =
          zstdCli == null
              ? ""
              : String.format(
                  "; vs the zstd CLI %.2fx, paired %s",
                  max(mbps[8]) / max(mbps[6]), paired(mbps[8], mbps[6]));
      System.out.printf(
          "ingest of the uncompressed NAR, chunk store at level 3: %.0f MB/s  ratio of bests"
              + " %.2fx, paired %s%s (CPU %.2f ms per MB)%n",
          max(mbps[8]), max(mbps[8]) / max(mbps[0]), paired(mbps[8], mbps[0]), vsCli, CPU[8]);
    }
    floor.print(narSize, CPU[0]);
    StringBuilder roles = new StringBuilder();
    ingestCpuByRole.forEach((k, v) -> roles.append(String.format(", %s %.2f", k, v)));
    String byRole =
        "ingest .nar CPU ms per MB by thread (leanest rep)"
            + roles
            + String.format(
                "; new arrays in the last rep's ingest: %d chunk buffers, %d frames",
                narNewArrays[0], narNewArrays[1]);
    if (!XZ_PARTS) {
      System.out.printf(
          "CPU ms per MB of NAR: zstd-3 %.2f, zstd CLI %.2f, ingest .nar %.2f (chunk store level"
              + " %d)%n%s%n",
          CPU[0], CPU[6], CPU[1], LEVEL, byRole);
      return;
    }
    System.out.println(byRole);
    System.out.printf(
        "xz decompression alone (`xz -dc`, liblzma):      %7.0f MB/s of NAR (best of %d)%n",
        max(mbps[2]), reps);
    System.out.printf(
        "ingest of the .nar.xz (liblzma, as deployed):    %7.0f MB/s  ratio of bests %.2fx,"
            + " paired %s (budget >= 0.90x)%n",
        max(mbps[3]), max(mbps[3]) / max(mbps[2]), paired(mbps[3], mbps[2]));
    System.out.printf(
        "xz -dc -T0 (xz's multi-threaded decoder, %d threads): %.0f MB/s (best of %d); ingest"
            + " ratio of bests %.2fx, paired %s%n",
        cores, max(mbps[7]), reps, max(mbps[3]) / max(mbps[7]), paired(mbps[3], mbps[7]));
    System.out.printf(
        "Java decoder fallback (no liblzma): decoder alone %.0f MB/s, ingest %.0f MB/s, ratio of"
            + " bests %.2fx, paired %s%n",
        max(mbps[4]), max(mbps[5]), max(mbps[5]) / max(mbps[4]), paired(mbps[5], mbps[4]));
    System.out.printf(
        "CPU ms per MB of NAR (this process and its children): zstd-3 %.2f, zstd CLI %.2f, ingest"
            + " .nar %.2f, xz -dc %.2f, xz -dc -T0 %.2f, ingest .nar.xz %.2f, Java xz decode %.2f,"
            + " ingest .nar.xz (Java) %.2f%n",
        CPU[0], CPU[6], CPU[1], CPU[2], CPU[7], CPU[3], CPU[4], CPU[5]);
  }

  /**
   * The chunk store's zstd level on the ingest side ({@code -Dstyx.bench.level}, default the
   * manifester's own, {@link ManifesterServer#DEFAULT_ZSTD_LEVEL}).
   */
  static final int LEVEL =
      Integer.getInteger("styx.bench.level", ManifesterServer.DEFAULT_ZSTD_LEVEL);

  /**
   * Where {@link #LEVEL} is not 3, each rep also ingests the uncompressed NAR into a level-3 chunk
   * store (the yardstick's level), so the README can give both ratios from one run ({@code
   * -Dstyx.bench.level3=false} skips it).
   */
  static final boolean LEVEL3_SIDE =
      LEVEL != 3 && Boolean.parseBoolean(System.getProperty("styx.bench.level3", "true"));

  /** {@code -Dstyx.bench.xz=false} measures only the uncompressed budget (seconds, not minutes). */
  static final boolean XZ_PARTS = Boolean.parseBoolean(System.getProperty("styx.bench.xz", "true"));

  /**
   * The CPU that any ingest of this NAR must spend, measured in memory on one thread (best of 3):
   * zstd of every chunk at the chunk store's level (chunks cut from the store path's files by
   * {@link ChunkPolicy}, as ingest cuts them), and the two SHA-256 passes over the file bytes, each
   * chunk's name and the NarHash, hashed as ingest hashes them: in one two-lane pass where {@link
   * Sha256} is available, else one after the other by the JDK (the NarHash over the whole NAR).
   * Against the yardstick's CPU this bounds the ratio ingest can reach on all cores even with free
   * parsing, file writes and scheduling.
   */
  record Floor(long chunks, long zstdNanos, long shaNanos, String shaHow) {
    void print(long narSize, double yardstickMsPerMb) {
      double mb = narSize / 1e6;
      double z = zstdNanos / 1e6 / mb;
      double h = shaNanos / 1e6 / mb;
      double sum = z + h;
      System.out.printf(
          "ingest CPU floor (in memory, %d chunks): zstd-%d of the chunks %.2f + SHA-256 of the"
              + " chunks and NarHash (%s) %.2f = %.2f ms per MB = %.2fx the zstd-3 yardstick's"
              + " %.2f; ratio ceiling with free parsing and writes %.2fx%n",
          chunks,
          LEVEL,
          z,
          shaHow,
          h,
          sum,
          sum / yardstickMsPerMb,
          yardstickMsPerMb,
          yardstickMsPerMb / sum);
    }
  }

  static Floor floor(byte[] nar, Path storePath) throws Exception {
    List<byte[]> chunks = new java.util.ArrayList<>();
    try (Stream<Path> s = Files.walk(storePath)) {
      for (Path p : s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
        byte[] b = Files.readAllBytes(p);
        if (ChunkPolicy.isInline(b.length)) {
          continue;
        }
        int size = ChunkPolicy.chunkSize(b.length);
        for (int off = 0; off < b.length; off += size) {
          chunks.add(java.util.Arrays.copyOfRange(b, off, Math.min(b.length, off + size)));
        }
      }
    }
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    byte[] out =
        new byte[(int) com.github.luben.zstd.Zstd.compressBound(1 << ChunkPolicy.SHIFT_1M)];
    long zstd = Long.MAX_VALUE;
    long sha = Long.MAX_VALUE;
    boolean twoLane = Sha256.available();
    for (int rep = 0; rep < 3; rep++) {
      try (ZstdCompressCtx c = new ZstdCompressCtx()) {
        c.setLevel(LEVEL);
        c.setContentSize(true);
        long t = threads.getCurrentThreadCpuTime();
        for (byte[] chunk : chunks) {
          c.compressByteArray(out, 0, out.length, chunk, 0, chunk.length);
        }
        zstd = Math.min(zstd, threads.getCurrentThreadCpuTime() - t);
      }
      long t = threads.getCurrentThreadCpuTime();
      if (twoLane) {
        // The NarHash's framing bytes (names, lengths, padding) are left out: a few per file.
        Sha256 narHash = Sha256.create();
        Sha256 chunkHash = Sha256.create();
        for (byte[] chunk : chunks) {
          Sha256.updateBoth(narHash, chunkHash, chunk, 0, chunk.length);
          chunkHash.digest();
        }
        narHash.digest();
      } else {
        for (byte[] chunk : chunks) {
          ChunkDigest.of(chunk);
        }
        ChunkDigest.sha256().digest(nar);
      }
      sha = Math.min(sha, threads.getCurrentThreadCpuTime() - t);
    }
    return new Floor(chunks.size(), zstd, sha, twoLane ? "two-lane SHA extensions" : "JDK");
  }

  /** The .nar.xz of {@code sp} in the xz cache. */
  static Path xzNar(Path xzCache, StorePath sp) throws IOException {
    NarInfo ni = NarInfo.parse(Files.readString(xzCache.resolve(sp.hashPart() + ".narinfo")));
    Path file = xzCache.resolve(ni.url());
    System.out.printf(".nar.xz %.1f MB%n", Files.size(file) / 1e6);
    return file;
  }

  /** Chunk files and their bytes in one ingest's store, against the NAR size. */
  static void printStoreSize(int level, Path store, long narSize) throws IOException {
    long files = 0;
    long bytes = 0;
    try (Stream<Path> s = Files.list(store.resolve("chunk"))) {
      for (Path p : s.toList()) {
        files++;
        bytes += Files.size(p);
      }
    }
    System.out.printf(
        "chunk store after one ingest at level %d: %d chunk files, %.1f MB (%.1f%% of the NAR)%n",
        level, files, bytes / 1e6, 100.0 * bytes / narSize);
  }

  static double max(double[] v) {
    return java.util.Arrays.stream(v).max().orElse(0);
  }

  /** Median and range of the per-rep ratios a[i] / b[i]. */
  static String paired(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] / b[i];
    }
    java.util.Arrays.sort(r);
    double median =
        r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    return String.format("median %.2fx (%.2f-%.2f)", median, r[0], r[r.length - 1]);
  }

  /** Runs {@code t} with the external decoders switched off (the Java fallback). */
  static long inProcess(Timed t) throws Exception {
    System.setProperty("styx.nar.externalDecoders", "false");
    try {
      return t.run();
    } finally {
      System.clearProperty("styx.nar.externalDecoders");
    }
  }

  static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  /**
   * Measurements per rep: 0 zstd-jni, 1 ingest .nar, 2 xz -dc, 3 ingest .nar.xz, 4 Java xz decode,
   * 5 ingest .nar.xz (Java), 6 zstd CLI, 7 xz -dc -T0, 8 ingest .nar at level 3.
   */
  static final int SLOTS = 9;

  /** CPU milliseconds (this process plus its children) per MB of NAR, lowest per measurement. */
  static final double[] CPU = new double[SLOTS];

  static {
    java.util.Arrays.fill(CPU, Double.MAX_VALUE);
  }

  interface Timed {
    long run() throws Exception;
  }

  /** For the uncompressed ingest's leanest rep: its CPU by thread role, ms per MB of NAR. */
  static java.util.Map<String, Double> ingestCpuByRole = java.util.Map.of();

  /**
   * CPU nanoseconds of this process by thread role: the manifester's ingest, CPU-pool and writer
   * threads by name, other Java threads, and the rest of the process (GC, JIT and other JVM
   * threads, which ThreadMXBean does not list).
   */
  static java.util.Map<String, Long> cpuByRole() {
    java.lang.management.ThreadMXBean tb = java.lang.management.ManagementFactory.getThreadMXBean();
    long total = OS.getProcessCpuTime();
    java.util.Map<String, Long> m = new java.util.TreeMap<>();
    long java = 0;
    for (java.lang.management.ThreadInfo ti : tb.getThreadInfo(tb.getAllThreadIds())) {
      if (ti == null) {
        continue;
      }
      long c = tb.getThreadCpuTime(ti.getThreadId());
      if (c < 0) {
        continue;
      }
      String n = ti.getThreadName();
      String role =
          n.startsWith("styx-ingest")
              ? "ingest thread"
              : n.startsWith("styx-cpu")
                  ? "CPU pool"
                  : n.equals("chunk-write") ? "chunk writer" : "other Java threads";
      m.merge(role, c, Long::sum);
      java += c;
    }
    m.put("JVM (GC, JIT)", total - java);
    return m;
  }

  static long measure(int slot, long bytes, Timed t) throws Exception {
    java.util.Map<String, Long> roles0 = slot == 1 ? cpuByRole() : null;
    long c0 = OS.getProcessCpuTime() + childrenCpuNanos();
    long m0 = System.nanoTime();
    long nanos = t.run();
    if (Boolean.getBoolean("styx.bench.marks")) {
      // CLOCK_MONOTONIC seconds, to cut a `perf record -k CLOCK_MONOTONIC` profile to this window
      System.out.printf("MARK %d %.6f %.6f%n", slot, m0 / 1e9, System.nanoTime() / 1e9);
    }
    long used = OS.getProcessCpuTime() + childrenCpuNanos() - c0;
    double perMb = used / 1e6 / (bytes / 1e6);
    if (roles0 != null && perMb < CPU[slot]) {
      java.util.Map<String, Double> d = new java.util.LinkedHashMap<>();
      cpuByRole()
          .forEach((k, v) -> d.put(k, (v - roles0.getOrDefault(k, 0L)) / 1e6 / (bytes / 1e6)));
      ingestCpuByRole = d;
    }
    CPU[slot] = Math.min(CPU[slot], perMb);
    return nanos;
  }

  /** CPU time of waited-for children (xz processes): fields 16-17 of /proc/self/stat. */
  static long childrenCpuNanos() throws IOException {
    String st = Files.readString(Path.of("/proc/self/stat"));
    String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
    // After the comm field, index 0 is field 3 (state); cutime and cstime are fields 16 and 17.
    long ticks = Long.parseLong(f[13]) + Long.parseLong(f[14]);
    return ticks * 10_000_000L; // USER_HZ is 100 on Linux
  }

  static double mbps(long bytes, long nanos) {
    return bytes / 1e6 / (nanos / 1e9);
  }

  /**
   * Output of the zstd side, allocated once: a fresh 271 MB array per run is a humongous allocation
   * that sometimes waited for a GC (runs at a third of the usual speed), which flattered ingest.
   */
  private static byte[] zstdOut = new byte[0];

  static long timeZstd(byte[] nar, int cores) {
    int bound = (int) com.github.luben.zstd.Zstd.compressBound(nar.length);
    if (zstdOut.length < bound) {
      zstdOut = new byte[bound];
    }
    long t = System.nanoTime();
    try (ZstdCompressCtx c = new ZstdCompressCtx()) {
      c.setLevel(3);
      c.setWorkers(cores);
      c.compressByteArray(zstdOut, 0, zstdOut.length, nar, 0, nar.length);
    }
    return System.nanoTime() - t;
  }

  /**
   * The zstd CLI's version ("v1.5.4"), or null if there is none: the literal reading of the
   * budget's yardstick ({@code zstd -3 -T<cores>}), measured beside zstd-jni in process (a newer
   * zstd, and no file I/O), which is the stricter one.
   */
  static String zstdCliVersion() {
    try {
      Process p = new ProcessBuilder("zstd", "-V").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        return null;
      }
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("v\\d+\\.\\d+\\.\\d+").matcher(out);
      return m.find() ? m.group() : out;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  static long timeXz(Path xzFile) throws IOException {
    byte[] buf = new byte[256 * 1024];
    long t = System.nanoTime();
    try (InputStream in =
        new XZInputStream(
            new java.io.BufferedInputStream(Files.newInputStream(xzFile), 128 * 1024))) {
      while (in.read(buf) >= 0) {
        // discard
      }
    }
    return System.nanoTime() - t;
  }

  static long timeCommand(String... cmd) throws Exception {
    long t = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed");
    }
    return System.nanoTime() - t;
  }

  /**
   * The long-lived parts of a manifester process, as {@link ManifesterServer} holds them: the CPU
   * pool (one platform thread per core, each keeping its zstd context), the ingest pool and the
   * {@link ChunkPipeline} (chunk writer thread, recycled buffers).
   */
  record Service(ExecutorService cpu, ExecutorService ingest, ChunkPipeline chunks)
      implements AutoCloseable {
    static Service start() {
      int cores = Runtime.getRuntime().availableProcessors();
      ExecutorService cpu =
          Executors.newFixedThreadPool(
              cores, Thread.ofPlatform().name("styx-cpu-", 1).daemon(true).factory());
      ExecutorService ingest =
          Executors.newFixedThreadPool(
              1, Thread.ofPlatform().name("styx-ingest-", 1).daemon(true).factory());
      return new Service(cpu, ingest, new ChunkPipeline(cpu));
    }

    @Override
    public void close() {
      ingest.shutdownNow();
      chunks.close();
      cpu.shutdownNow();
    }
  }

  /**
   * {@code -Dstyx.bench.servicePerIngest=true} starts a new {@link Service} for every ingest (new
   * threads, zstd contexts and buffers each time), for comparison with the long-lived one a
   * manifester runs.
   */
  static final boolean SERVICE_PER_INGEST = Boolean.getBoolean("styx.bench.servicePerIngest");

  private static Service service;

  /** Chunk buffers and frames the last ingest had to allocate (a warm pipeline recycles). */
  static long[] lastIngestNewArrays = {0, 0};

  static long timeIngest(Path work, Path cache, StorePath sp, NixKeyring keys) throws Exception {
    return timeIngest(work, cache, sp, keys, LEVEL);
  }

  /** The last store written at each zstd level (for its size). */
  private static final java.util.Map<Integer, Path> lastStore =
      new java.util.concurrent.ConcurrentHashMap<>();

  static long timeIngest(Path work, Path cache, StorePath sp, NixKeyring keys, int level)
      throws Exception {
    // A fresh store per ingest, all removed at the end: deleting ~2,000 chunk files right before
    // an ingest would make ext4 skip the recently freed inodes (recently_deleted() scans) on every
    // create, a cost of the benchmark loop that a long-lived chunk store does not pay. The store is
    // new, the service around it is not: a manifester is a long-running process.
    Path storeDir = work.resolve("store-" + STORES.incrementAndGet());
    delete(storeDir); // left by an aborted run: its manifests would be cache hits
    ChunkStoreDir store = new ChunkStoreDir(storeDir, level);
    lastStore.put(level, storeDir);
    if (service == null || SERVICE_PER_INGEST) {
      service = Service.start();
    }
    try (Manifester m =
        new Manifester(
            store,
            List.of(NixSecretKey.generate("bench-1")),
            List.of("file://" + cache.toAbsolutePath()),
            keys,
            service.ingest(),
            service.chunks(),
            new ServerMetrics())) {
      long a0 = service.chunks().chunkBuffers().allocations();
      long f0 = service.chunks().frames().allocations();
      long t = System.nanoTime();
      m.manifest("file://" + cache.toAbsolutePath(), sp.toString());
      long el = System.nanoTime() - t;
      lastIngestNewArrays =
          new long[] {
            service.chunks().chunkBuffers().allocations() - a0,
            service.chunks().frames().allocations() - f0
          };
      return el;
    } finally {
      if (SERVICE_PER_INGEST) {
        service.close();
      }
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger STORES =
      new java.util.concurrent.atomic.AtomicInteger();

  static void delete(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}
