package dev.styx.chunkstore;

import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps freshly written chunk files out of the page cache (opt-in: {@code
 * -Dstyx.chunkstore.dropBehind=true}), for a host where ingest must not grow the cache. Each
 * chunk's writeback is started as soon as it is written ({@code
 * sync_file_range(SYNC_FILE_RANGE_WRITE)}, asynchronous), and once {@link #WINDOW} newer chunks
 * have been written, by when its writeback has normally finished, its clean pages are dropped
 * ({@code POSIX_FADV_DONTNEED}). Pages still under writeback are left alone: the advice is best
 * effort and never loses data.
 *
 * <p>Not the default, by measurement (ingest benchmark, 2-core VM): with plain buffered writes a
 * JDK ingest took 5.4-6.2 ms of CPU per MB against 5.7-6.1 with this, and used less CPU in 5 of 7
 * paired comparisons. Early in development the opposite held (chunk writer 330-410 vs 490-690 ms):
 * on this VM a new page-cache page may first have to come back from the host, which a recycled
 * dropped page does not, so the winner depends on how much memory was freed just before.
 */
final class DropBehind {
  /** Chunks written after a chunk before its pages are dropped (~64 x 70 KB in a JDK ingest). */
  static final int WINDOW = 64;

  private final ConcurrentLinkedQueue<Path> written = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();

  /** Starts writeback of an open, just-written file; best effort (a tmpfs ignores it). */
  static void startWriteback(int fd) {
    try {
      Syscalls.syncFileRange(fd, Syscalls.SYNC_FILE_RANGE_WRITE);
    } catch (SyscallException e) {
      // Advisory: the data is written either way, and the kernel flushes it later.
    }
  }

  /** Records a chunk file now in place; drops the pages of the oldest one past the window. */
  void written(Path chunk) {
    written.add(chunk);
    if (size.incrementAndGet() <= WINDOW) {
      return;
    }
    Path old = written.poll();
    if (old == null) {
      return;
    }
    size.decrementAndGet();
    drop(old);
  }

  /** Drops the clean cached pages of a file; a file removed meanwhile is simply skipped. */
  static void drop(Path file) {
    int fd;
    try {
      fd = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
    } catch (SyscallException e) {
      return;
    }
    try {
      Syscalls.fadvise(fd, Syscalls.POSIX_FADV_DONTNEED);
    } catch (SyscallException e) {
      // Advisory only.
    } finally {
      try {
        Syscalls.close(fd);
      } catch (SyscallException e) {
        // A read-only descriptor has nothing to flush.
      }
    }
  }
}
