package dev.styx.kernel.fanotify;

import dev.styx.kernel.Backend;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Cost of the fanotify backend on this kernel, both sides of each ratio from one run: a file of
 * {@code SIZE_MIB} (default 256) random bytes in an EROFS image made by mkfs.erofs over a 64 KiB
 * chunk blob, read through a fresh lazy mount (cold: each chunk copied in from the local blob;
 * warm: slab data present, the filler answers from its presence bitmap) against reading the slab
 * file directly, plus random 4 KiB reads to price a single event. Run as root via {@code
 * scripts/bench-fanotify [SIZE_MIB]}.
 */
public final class FanotifyBench {
  private static final int CHUNK = 65536;

  private FanotifyBench() {}

  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int readAheadKb =
        args.length > 1 ? Integer.parseInt(args[1]) : FanotifyOptions.DEFAULT_READ_AHEAD_KB;
    if (Syscalls.getpid() > 0 && !"root".equals(System.getProperty("user.name"))) {
      throw new IllegalStateException("run as root (mount(2), fanotify pre-content groups)");
    }
    Path dir = Files.createTempDirectory("styx-fanotify-bench");
    try {
      run(dir, mib, readAheadKb);
    } finally {
      try (var s = Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void run(Path dir, int mib, int readAheadKb) throws Exception {
    long size = (long) mib << 20;
    Path src = Files.createDirectories(dir.resolve("src"));
    System.err.println("bench: writing " + mib + " MiB of random data and building the image...");
    try (OutputStream out = Files.newOutputStream(src.resolve("big.bin"))) {
      SplittableRandom r = new SplittableRandom(7);
      byte[] buf = new byte[1 << 20];
      for (int i = 0; i < mib; i++) {
        for (int j = 0; j < buf.length; j += 8) {
          long v = r.nextLong();
          for (int k = 0; k < 8; k++) {
            buf[j + k] = (byte) (v >>> (8 * k));
          }
        }
        out.write(buf);
      }
    }
    Path image = dir.resolve("meta.erofs");
    Path blob = dir.resolve("blob");
    Path slab = dir.resolve("slab-0");
    Process mk =
        new ProcessBuilder(
                "mkfs.erofs",
                "--chunksize=" + CHUNK,
                "--blobdev=" + blob,
                image.toString(),
                src.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("mkfs.log").toFile())
            .start();
    if (mk.waitFor() != 0) {
      throw new IOException("mkfs.erofs failed: " + Files.readString(dir.resolve("mkfs.log")));
    }
    try (RandomAccessFile raf = new RandomAccessFile(slab.toFile(), "rw")) {
      raf.setLength(Files.size(blob));
    }
    Path target = Files.createDirectories(dir.resolve("mnt"));
    Path file = target.resolve("big.bin");
    int writeFd = Syscalls.open(slab, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
    int blobFd = Syscalls.open(blob, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    ChunkCopyFiller filler = new ChunkCopyFiller(blobFd, writeFd, Files.size(blob));
    FanotifyBackend backend =
        new FanotifyBackend(
            new FanotifyOptions(Duration.ofSeconds(60), dir.resolve("journal"), true, readAheadKb),
            null);
    backend.start(filler);
    Backend.Slab s = new Backend.Slab(0, slab, writeFd);
    backend.attachSlab(s);
    try {
      System.out.printf(
          "fanotify bench: %d MiB file, %d KiB chunks, read-ahead %d KiB, kernel %s, %d cpus%n",
          mib,
          CHUNK >> 10,
          readAheadKb,
          System.getProperty("os.version"),
          Runtime.getRuntime().availableProcessors());
      // Cold: every chunk is missing and copied in from the local blob.
      long serve0 = backend.stats().serveNanos();
      Result cold = timedMountRead(backend, image, s, target, file, size);
      System.out.printf(
          "cold sequential (fill = copy from local blob): %.0f MB/s, %d events, %.1f KiB/event,"
              + " %.1f us in the daemon per event%n",
          cold.mbps(),
          cold.events(),
          size / 1024.0 / Math.max(1, cold.events()),
          (backend.stats().serveNanos() - serve0) / 1e3 / Math.max(1, cold.events()));
      // Warm: data present; the slab's page cache is hot, each fresh mount has a cold EROFS cache.
      double warm = 0;
      long warmEvents = 0;
      double direct = 0;
      double eager = 0;
      Backend.Slab unmarked = new Backend.Slab(0, blob, -1);
      int runs = 5;
      for (int i = 0; i < runs; i++) {
        Result w = timedMountRead(backend, image, s, target, file, size);
        warm += w.mbps() / runs;
        warmEvents = w.events();
        // The same bytes from an unmarked file (reads of the marked slab would raise events).
        direct += readSlabDirectly(blob, Files.size(blob)) / runs;
        // The same image over an unmarked copy: EROFS with no group at all (the eager backend).
        eager += plainMountRead(image, unmarked, target, file, size, readAheadKb) / runs;
      }
      System.out.printf(
          "warm sequential, fresh mount, data present: %.0f MB/s (%d events/run)%n",
          warm, warmEvents);
      System.out.printf(
          "direct read of the same bytes (blob file, page cache): %.0f MB/s%n", direct);
      System.out.printf(
          "same image over an unmarked blob, no fanotify (eager backend), same read-ahead: %.0f MB/s%n",
          eager);
      System.out.printf(
          "ratio warm fanotify / eager mount: %.2f (budget >= 0.9); warm fanotify / direct file:"
              + " %.2f%n",
          warm / eager, warm / direct);
      randomReads(backend, image, s, target, file, size, blob);
    } finally {
      backend.close();
      Syscalls.close(writeFd);
      Syscalls.close(blobFd);
    }
  }

  private record Result(double mbps, long events) {}

  private static Result timedMountRead(
      FanotifyBackend backend, Path image, Backend.Slab s, Path target, Path file, long size)
      throws IOException {
    backend.mount(image, List.of(s), target);
    try {
      long e0 = backend.stats().events();
      long t0 = System.nanoTime();
      long n = readAll(file);
      long ns = System.nanoTime() - t0;
      if (n != size) {
        throw new IOException("read " + n + " of " + size);
      }
      return new Result(size / 1e6 / (ns / 1e9), backend.stats().events() - e0);
    } finally {
      backend.unmount(target);
    }
  }

  private static double plainMountRead(
      Path image, Backend.Slab s, Path target, Path file, long size, int readAheadKb)
      throws IOException {
    MountReadAhead.mount(image, List.of(s), target, readAheadKb);
    try {
      long t0 = System.nanoTime();
      long n = readAll(file);
      long ns = System.nanoTime() - t0;
      if (n != size) {
        throw new IOException("read " + n + " of " + size);
      }
      return size / 1e6 / (ns / 1e9);
    } finally {
      dev.styx.kernel.FileBackedMount.unmount(target);
    }
  }

  private static long readAll(Path p) throws IOException {
    int fd = Syscalls.open(p, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    try {
      ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
      long total = 0;
      while (true) {
        buf.clear();
        int n = Syscalls.read(fd, buf);
        if (n == 0) {
          return total;
        }
        total += n;
      }
    } finally {
      Syscalls.close(fd);
    }
  }

  private static double readSlabDirectly(Path slab, long size) throws IOException {
    long t0 = System.nanoTime();
    long n = readAll(slab);
    long ns = System.nanoTime() - t0;
    if (n != size) {
      throw new IOException("slab read " + n + " of " + size);
    }
    return size / 1e6 / (ns / 1e9);
  }

  /** Random 4 KiB preads, data present: each lands on a cold EROFS page and raises one event. */
  private static void randomReads(
      FanotifyBackend backend,
      Path image,
      Backend.Slab s,
      Path target,
      Path file,
      long size,
      Path slab)
      throws IOException {
    int reads = (int) Math.min(20_000, size / 4096 / 2);
    long[] offsets = new long[reads];
    SplittableRandom r = new SplittableRandom(3);
    java.util.Set<Long> seen = new java.util.HashSet<>();
    for (int i = 0; i < reads; ) {
      long o = r.nextLong(size / 4096) * 4096;
      if (seen.add(o)) {
        offsets[i++] = o;
      }
    }
    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
    backend.mount(image, List.of(s), target);
    long ns;
    long events;
    try {
      int fd = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      try {
        // Random access: no readahead, so each read is its own page-sized event.
        Syscalls.fadvise(fd, Syscalls.POSIX_FADV_RANDOM);
        long e0 = backend.stats().events();
        long serve0 = backend.stats().serveNanos();
        long t0 = System.nanoTime();
        for (long o : offsets) {
          buf.clear();
          Syscalls.pread(fd, buf, o);
        }
        ns = System.nanoTime() - t0;
        events = backend.stats().events() - e0;
        long serveNs = backend.stats().serveNanos() - serve0;
        System.out.printf(
            "random 4 KiB reads via fresh mount, data present: %d reads in %.0f ms, %d events,"
                + " %.0f events/s, %.1f us per read, %.1f us in the daemon per event%n",
            reads,
            ns / 1e6,
            events,
            events / (ns / 1e9),
            ns / 1e3 / reads,
            serveNs / 1e3 / Math.max(1, events));
      } finally {
        Syscalls.close(fd);
      }
    } finally {
      backend.unmount(target);
    }
    int fd = Syscalls.open(slab, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    try {
      long t0 = System.nanoTime();
      for (long o : offsets) {
        buf.clear();
        Syscalls.pread(fd, buf, o);
      }
      long direct = System.nanoTime() - t0;
      System.out.printf(
          "same 4 KiB offsets read from the blob directly: %.1f us per read -> event cost %.1f us%n",
          direct / 1e3 / reads, (ns - direct) / 1e3 / Math.max(1, events));
    } finally {
      Syscalls.close(fd);
    }
  }
}
