package dev.styx.kernel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A real filler for the backend tests (fanotify on the host, cachefiles in the VM): copies the
 * requested range from the complete blob into the slab file through its pre-mark write fd
 * (copy_file_range), as the daemon's chunk supply writes fetched chunks, so readers get real data.
 * Records every request; can be switched to fail (the reader must see EIO) or to hang (a daemon
 * stuck mid-fetch, to be SIGKILLed).
 */
public final class BlobCopyFiller implements SlabFiller, AutoCloseable {
  /** What fill does. */
  public enum Mode {
    COPY,
    FAIL,
    HANG
  }

  /** One request. */
  public record Request(int slab, long offset, long length) {}

  public final List<Request> requests = new CopyOnWriteArrayList<>();
  public volatile Mode mode = Mode.COPY;
  public volatile Consumer<Request> onRequest = r -> {};
  private final int blobFd;
  private final int writeFd;
  private final long blobSize;

  public BlobCopyFiller(Path blob, int writeFd) throws IOException {
    this.blobFd = Syscalls.open(blob, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    this.writeFd = writeFd;
    this.blobSize = Syscalls.fileSize(blobFd);
  }

  @Override
  public void fill(int slabId, long offset, long length) throws IOException {
    Request r = new Request(slabId, offset, length);
    requests.add(r);
    onRequest.accept(r);
    switch (mode) {
      case FAIL -> throw new IOException("injected fetch failure at " + offset);
      case HANG -> {
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted");
        }
      }
      case COPY -> {}
    }
    if (slabId != 0) {
      throw new IOException("no slab " + slabId);
    }
    long end = Math.min(blobSize, offset + length);
    if (end > offset) {
      long n = Syscalls.copyFileRange(blobFd, offset, writeFd, offset, end - offset);
      if (n != end - offset) {
        throw new IOException("short copy " + n + " of " + (end - offset));
      }
    }
  }

  /** Bytes requested, overlaps counted once. */
  public long uniqueBytes() {
    long total = 0;
    long covered = -1;
    for (Request r : requests.stream().sorted(Comparator.comparingLong(Request::offset)).toList()) {
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
