package dev.styx.kernel.fanotify;

import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real filler for tests: copies the requested range from the complete blob into the slab through
 * its pre-mark write fd (copy_file_range), so the reader gets real data. It records every request.
 */
final class BlobCopyFiller implements SlabFiller, AutoCloseable {
  /** One request the backend made. */
  record Request(int slab, long offset, long length) {}

  final List<Request> requests = new CopyOnWriteArrayList<>();
  private final int blobFd;
  private final int writeFd;
  private final long blobSize;

  BlobCopyFiller(Path blob, int writeFd) throws IOException {
    this.blobFd = Syscalls.open(blob, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    this.writeFd = writeFd;
    this.blobSize = Syscalls.fileSize(blobFd);
  }

  @Override
  public void fill(int slabId, long offset, long length) throws IOException {
    requests.add(new Request(slabId, offset, length));
    long end = Math.min(blobSize, offset + length);
    if (end > offset) {
      long n = Syscalls.copyFileRange(blobFd, offset, writeFd, offset, end - offset);
      if (n != end - offset) {
        throw new IOException("short copy " + n + " of " + (end - offset));
      }
    }
  }

  /** Total bytes requested, counting overlaps once. */
  long uniqueBytes() {
    List<Request> rs =
        requests.stream().sorted(java.util.Comparator.comparingLong(Request::offset)).toList();
    long total = 0;
    long covered = -1;
    for (Request r : rs) {
      long s = Math.max(r.offset(), covered);
      long e = r.offset() + r.length();
      if (e > s) {
        total += e - s;
        covered = e;
      }
    }
    return total;
  }

  @Override
  public void close() throws IOException {
    Syscalls.close(blobFd);
  }
}
