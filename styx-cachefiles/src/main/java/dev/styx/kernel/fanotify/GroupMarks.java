package dev.styx.kernel.fanotify;

import dev.styx.kernel.FileId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * The inode marks of a fanotify group, read from {@code /proc/self/fdinfo/<fd>} (lines {@code
 * fanotify ino:<hex> sdev:<hex> mflags:... mask:...}, {@code fs/notify/fdinfo.c}). Used to tell
 * whether a slab is already marked by a group taken back from the fd store: such a slab needs the
 * write fd kept with the group, since any fd opened now would raise events on its own writes.
 */
public final class GroupMarks {
  private GroupMarks() {}

  /** The files the group behind {@code groupFd} (open in this process) has inode marks on. */
  public static Set<FileId> of(int groupFd) throws IOException {
    return parse(Files.readString(Path.of("/proc/self/fdinfo/" + groupFd)));
  }

  /**
   * Parses fdinfo text. {@code sdev} is the kernel's internal dev_t (major << 20 | minor); it is
   * converted to the userspace encoding that stat(2) reports, so results compare with {@link
   * dev.styx.kernel.Syscalls#fileId}.
   */
  public static Set<FileId> parse(String fdinfo) {
    Set<FileId> out = new HashSet<>();
    for (String line : fdinfo.split("\n")) {
      if (!line.startsWith("fanotify ino:")) {
        continue;
      }
      long ino = -1;
      long sdev = -1;
      for (String field : line.split(" ")) {
        if (field.startsWith("ino:")) {
          ino = Long.parseUnsignedLong(field.substring(4), 16);
        } else if (field.startsWith("sdev:")) {
          sdev = Long.parseUnsignedLong(field.substring(5), 16);
        }
      }
      if (ino < 0 || sdev < 0) {
        throw new IllegalArgumentException("malformed fanotify fdinfo line: " + line);
      }
      out.add(new FileId(userDev(sdev), ino));
    }
    return out;
  }

  /** Kernel dev_t (MINORBITS = 20) to the stat(2) encoding ({@code new_encode_dev}). */
  static long userDev(long kdev) {
    long major = kdev >>> 20;
    long minor = kdev & 0xfffff;
    return (minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12);
  }
}
