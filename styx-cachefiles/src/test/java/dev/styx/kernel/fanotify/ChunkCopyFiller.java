package dev.styx.kernel.fanotify;

import dev.styx.kernel.SlabFiller;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A filler shaped like the daemon's: a presence bitmap of 64 KiB chunks, missing chunks copied in
 * whole from the complete blob (the stand-in for a verified fetch) exactly once even under
 * concurrent events, present ranges answered from memory. Counts copies per chunk.
 */
final class ChunkCopyFiller implements SlabFiller {
  static final int CHUNK = 65536;
  private final int blobFd;
  private final int writeFd;
  private final long size;
  private final AtomicLongArray present;
  final AtomicIntegerArray copies;

  ChunkCopyFiller(int blobFd, int writeFd, long size) {
    this.blobFd = blobFd;
    this.writeFd = writeFd;
    this.size = size;
    int chunks = (int) ((size + CHUNK - 1) / CHUNK);
    this.present = new AtomicLongArray(chunks / 64 + 1);
    this.copies = new AtomicIntegerArray(chunks);
  }

  @Override
  public void fill(int slabId, long offset, long length) throws IOException {
    long end = Math.min(size, offset + length);
    for (long c = offset / CHUNK; c * CHUNK < end; c++) {
      if (isPresent(c)) {
        continue;
      }
      synchronized (this) {
        if (!isPresent(c)) {
          long at = c * CHUNK;
          long n = Math.min(CHUNK, size - at);
          if (Syscalls.copyFileRange(blobFd, at, writeFd, at, n) != n) {
            throw new IOException("short copy at " + at);
          }
          copies.incrementAndGet((int) c);
          long bit = 1L << (c & 63);
          present.getAndUpdate((int) (c >>> 6), v -> v | bit);
        }
      }
    }
  }

  @Override
  public boolean isPresent(int slabId, long offset, long length) {
    long end = Math.min(size, offset + length);
    for (long c = offset / CHUNK; c * CHUNK < end; c++) {
      if (!isPresent(c)) {
        return false;
      }
    }
    return true;
  }

  private boolean isPresent(long c) {
    return (present.get((int) (c >>> 6)) & (1L << (c & 63))) != 0;
  }
}
