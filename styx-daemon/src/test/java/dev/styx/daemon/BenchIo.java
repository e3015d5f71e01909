package dev.styx.daemon;

import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.SlabLocation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/** The measurements both daemon benches compare against: a plain HTTP fetch and direct reads. */
final class BenchIo {
  private BenchIo() {}

  /** Seconds for a JDK HttpClient to GET every chunk object, {@code n} requests in flight. */
  static double plainFetch(String base, List<ChunkDigest> ds, int n) throws Exception {
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
    Semaphore sem = new Semaphore(n);
    long t0 = System.nanoTime();
    try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> fs = new ArrayList<>();
      for (ChunkDigest d : ds) {
        fs.add(
            ex.submit(
                () -> {
                  sem.acquire();
                  try {
                    HttpResponse<byte[]> r =
                        http.send(
                            HttpRequest.newBuilder(URI.create(base + "/chunk/" + d.hex())).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                    if (r.statusCode() != 200) {
                      throw new IOException("HTTP " + r.statusCode());
                    }
                  } finally {
                    sem.release();
                  }
                  return null;
                }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Reads every file to its end through 1 MiB reads; returns the bytes read. */
  static long readFiles(List<Path> files) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    long total = 0;
    for (Path f : files) {
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
        int r;
        while ((r = ch.read(buf.clear())) > 0) {
          total += r;
        }
      }
    }
    return total;
  }

  /** Reads the chunk ranges straight from the slab files; returns the bytes read. */
  static long readSlab(Daemon d, List<SlabLocation> ranges) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    long total = 0;
    Map<Integer, FileChannel> chs = new java.util.HashMap<>();
    try {
      for (SlabLocation l : ranges) {
        FileChannel ch = chs.get(l.slab());
        if (ch == null) {
          ch = FileChannel.open(d.slabs().file(l.slab()), StandardOpenOption.READ);
          chs.put(l.slab(), ch);
        }
        buf.clear().limit(l.length());
        long off = l.offset();
        while (buf.hasRemaining()) {
          int r = ch.read(buf, off);
          if (r <= 0) {
            throw new IOException("short slab read");
          }
          off += r;
        }
        total += l.length();
      }
    } finally {
      for (FileChannel ch : chs.values()) {
        ch.close();
      }
    }
    return total;
  }
}
