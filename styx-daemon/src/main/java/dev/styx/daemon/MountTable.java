package dev.styx.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/** Mount points of this mount namespace, from {@code /proc/self/mountinfo}. */
public final class MountTable {
  private MountTable() {}

  /** Every current mount point (octal escapes such as {@code \040} decoded). */
  public static Set<String> mountPoints() throws IOException {
    Set<String> out = new HashSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4) {
        out.add(unescape(f[4]));
      }
    }
    return out;
  }

  /** Whether something is mounted exactly at {@code p}. */
  public static boolean isMountPoint(Path p) throws IOException {
    return mountPoints().contains(p.toAbsolutePath().normalize().toString());
  }

  static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
