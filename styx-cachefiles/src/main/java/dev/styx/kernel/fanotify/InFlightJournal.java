package dev.styx.kernel.fanotify;

import dev.styx.kernel.FileId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The permission events read but not yet answered, one fixed-size slot each, so that a restarted
 * daemon (which took the group fd back from the fd store) can answer them: the kernel matches a
 * response by the fd NUMBER in the group's access list, not by any fd the new process owns.
 *
 * <p>Slot layout (48 bytes, little-endian): state u32 @0 ({@link #LIVE} or 0), fd s32 @4, dev
 * u64 @8, ino u64 @16, offset u64 @24, count u64 @32, reserved @40. Adding writes a whole slot,
 * answering clears its state word: two small page-cache writes per event, no truncation or growth
 * on the hot path (the file only grows when more events are in flight than ever before). Not
 * fsynced: it must survive the process, not the machine (a reboot ends the group and every mount
 * anyway).
 */
public final class InFlightJournal implements AutoCloseable {
  /** One unanswered event: its fd number in the reading process, file, and byte range. */
  public record Entry(int fd, FileId file, long offset, long count) {}

  static final int SLOT = 48;
  static final int LIVE = 0x314a4653; // "SFJ1"

  private final FileChannel ch;
  private final List<Entry> recovered;
  private final Map<Integer, Integer> slotOfFd = new HashMap<>();
  private final ArrayDeque<Integer> free = new ArrayDeque<>();
  private final ByteBuffer slotBuf = ByteBuffer.allocateDirect(SLOT).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer clearBuf = ByteBuffer.allocateDirect(4);
  private int slots;

  private InFlightJournal(FileChannel ch, List<Entry> recovered) {
    this.ch = ch;
    this.recovered = List.copyOf(recovered);
  }

  /**
   * Opens (or creates) the journal; entries left by a previous process become {@link #recovered}.
   */
  public static InFlightJournal open(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    FileChannel ch =
        FileChannel.open(
            path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      long size = ch.size();
      ByteBuffer all = ByteBuffer.allocate((int) Math.min(size, Integer.MAX_VALUE - 8));
      while (all.hasRemaining() && ch.read(all, all.position()) > 0) {
        // read it all
      }
      all.flip();
      Map<Integer, Entry> live = scan(all);
      InFlightJournal j = new InFlightJournal(ch, List.copyOf(live.values()));
      synchronized (j) {
        j.slots = (int) (size / SLOT);
        for (int s = 0; s < j.slots; s++) {
          j.free.add(s);
        }
        for (var e : live.entrySet()) {
          j.free.remove(e.getKey());
          j.slotOfFd.put(e.getValue().fd(), e.getKey());
        }
      }
      return j;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * The live entries of a journal image, by slot index. A partial slot at the end (a file cut
   * short) is ignored; a live slot with a negative fd or range is rejected as corrupt.
   */
  public static Map<Integer, Entry> scan(ByteBuffer image) {
    ByteBuffer b = image.slice().order(ByteOrder.LITTLE_ENDIAN);
    Map<Integer, Entry> m = new java.util.LinkedHashMap<>();
    for (int s = 0; (s + 1) * SLOT <= b.limit(); s++) {
      int at = s * SLOT;
      if (b.getInt(at) != LIVE) {
        continue;
      }
      int fd = b.getInt(at + 4);
      long off = b.getLong(at + 24);
      long count = b.getLong(at + 32);
      if (fd < 0 || off < 0 || count < 0) {
        throw new IllegalArgumentException("corrupt in-flight journal slot " + s);
      }
      m.put(s, new Entry(fd, new FileId(b.getLong(at + 8), b.getLong(at + 16)), off, count));
    }
    return m;
  }

  /** Entries the previous process left unanswered, still outstanding until {@link #remove}d. */
  public List<Entry> recovered() {
    return recovered;
  }

  /** Records an event as read; call before anything else is done for it. */
  public synchronized void add(Entry e) throws IOException {
    Integer slot = slotOfFd.get(e.fd());
    if (slot == null) {
      slot = free.isEmpty() ? slots++ : free.poll();
      slotOfFd.put(e.fd(), slot);
    }
    slotBuf.clear();
    slotBuf
        .putInt(LIVE)
        .putInt(e.fd())
        .putLong(e.file().dev())
        .putLong(e.file().ino())
        .putLong(e.offset())
        .putLong(e.count())
        .putLong(0)
        .flip();
    write(slotBuf, (long) slot * SLOT);
  }

  /** Records that the event with fd number {@code fd} has been answered. */
  public synchronized void remove(int fd) throws IOException {
    Integer slot = slotOfFd.remove(fd);
    if (slot == null) {
      return;
    }
    clearBuf.clear();
    clearBuf.putInt(0, 0);
    write(clearBuf, (long) slot * SLOT);
    free.push(slot);
  }

  /** How many events are outstanding now. */
  public synchronized int outstanding() {
    return slotOfFd.size();
  }

  /** Live entries now (for tests and status). */
  public synchronized List<Entry> live() throws IOException {
    ByteBuffer all = ByteBuffer.allocate(slots * SLOT);
    while (all.hasRemaining() && ch.read(all, all.position()) > 0) {
      // read it all
    }
    all.flip();
    return new ArrayList<>(scan(all).values());
  }

  private void write(ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      pos += ch.write(b, pos);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    ch.close();
  }
}
