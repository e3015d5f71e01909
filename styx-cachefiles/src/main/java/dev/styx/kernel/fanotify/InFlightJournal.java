package dev.styx.kernel.fanotify;

import dev.styx.kernel.FileId;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small append-only file of the permission events read but not yet answered: {@code + fd dev ino
 * offset count} when an event is read, {@code - fd} once it is answered. A restarted daemon (which
 * took the group fd back from the fd store) answers what is left by writing responses that name the
 * journaled fd numbers: the kernel matches responses by that integer in the group's access list,
 * not by any fd the new process owns. The file is not fsynced: it only has to survive the process,
 * not the machine (a reboot ends the group and every mount anyway).
 */
public final class InFlightJournal implements AutoCloseable {
  /** One unanswered event: its fd number in the reading process, file, and byte range. */
  public record Entry(int fd, FileId file, long offset, long count) {}

  private static final long COMPACT_AT = 4L << 20;

  private final Path path;
  private final List<Entry> recovered;
  private final Map<Integer, Entry> open = new LinkedHashMap<>();
  private FileChannel ch;
  private long size;

  private InFlightJournal(Path path, List<Entry> recovered) {
    this.path = path;
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
    String text = Files.exists(path) ? Files.readString(path, StandardCharsets.UTF_8) : "";
    InFlightJournal j = new InFlightJournal(path, List.copyOf(replay(text).values()));
    synchronized (j) {
      for (Entry e : j.recovered) {
        j.open.put(e.fd(), e);
      }
      j.rewrite();
    }
    return j;
  }

  /**
   * The unanswered entries of a journal text, by fd number (the latest {@code +} wins). A torn last
   * line, left by a process killed mid-write, is ignored.
   */
  public static Map<Integer, Entry> replay(String text) {
    Map<Integer, Entry> m = new LinkedHashMap<>();
    int start = 0;
    while (start < text.length()) {
      int nl = text.indexOf('\n', start);
      if (nl < 0) {
        break; // torn tail
      }
      String line = text.substring(start, nl);
      start = nl + 1;
      String[] f = line.split(" ");
      try {
        if (f.length == 6 && f[0].equals("+")) {
          int fd = Integer.parseInt(f[1]);
          m.put(
              fd,
              new Entry(
                  fd,
                  new FileId(Long.parseLong(f[2]), Long.parseLong(f[3])),
                  Long.parseLong(f[4]),
                  Long.parseLong(f[5])));
        } else if (f.length == 2 && f[0].equals("-")) {
          m.remove(Integer.parseInt(f[1]));
        } else {
          throw new IllegalArgumentException("malformed in-flight journal line: " + line);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("malformed in-flight journal line: " + line, e);
      }
    }
    return m;
  }

  /** Entries the previous process left unanswered, still outstanding until {@link #remove}d. */
  public List<Entry> recovered() {
    return recovered;
  }

  /** Records an event as read; call before anything else is done for it. */
  public synchronized void add(Entry e) throws IOException {
    open.put(e.fd(), e);
    append(plus(e));
  }

  /** Records that the event with fd number {@code fd} has been answered. */
  public synchronized void remove(int fd) throws IOException {
    if (open.remove(fd) == null) {
      return;
    }
    if (open.isEmpty()) {
      ch.truncate(0);
      size = 0;
    } else if (size > COMPACT_AT) {
      rewrite();
    } else {
      append("- " + fd + "\n");
    }
  }

  /** How many events are outstanding now. */
  public synchronized int outstanding() {
    return open.size();
  }

  private static String plus(Entry e) {
    return "+ "
        + e.fd()
        + " "
        + e.file().dev()
        + " "
        + e.file().ino()
        + " "
        + e.offset()
        + " "
        + e.count()
        + "\n";
  }

  private void append(String line) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.US_ASCII));
    while (b.hasRemaining()) {
      size += ch.write(b, size);
    }
  }

  /** Replaces the file with just the outstanding entries (temp file + atomic rename). */
  private void rewrite() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (Entry e : open.values()) {
      sb.append(plus(e));
    }
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    Files.writeString(tmp, sb, StandardCharsets.US_ASCII);
    Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    if (ch != null) {
      ch.close();
    }
    ch = FileChannel.open(path, StandardOpenOption.WRITE);
    size = ch.size();
  }

  @Override
  public synchronized void close() throws IOException {
    if (ch != null) {
      ch.close();
      ch = null;
    }
  }
}
