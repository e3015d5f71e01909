package dev.styx.manifest;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Entry path rules: {@code "/"} or {@code "/"}-separated NAR names, each a non-empty name that is
 * not {@code .} or {@code ..} and has no {@code /} or NUL (the names NAR itself accepts).
 */
public final class ManifestPaths {
  private ManifestPaths() {}

  /** Longest path accepted (Linux PATH_MAX). */
  public static final int MAX_PATH = 4096;

  /** Longest single name accepted (Linux NAME_MAX). */
  public static final int MAX_NAME = 255;

  /** Throws IllegalArgumentException unless {@code path} is a valid entry path. */
  public static void check(String path) {
    if (path.equals("/")) {
      return;
    }
    if (path.isEmpty() || path.charAt(0) != '/' || path.endsWith("/")) {
      throw new IllegalArgumentException("bad entry path: " + quote(path));
    }
    if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH) {
      throw new IllegalArgumentException("entry path too long: " + quote(path));
    }
    int start = 1;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      checkName(path.substring(start, end), path);
      start = end + 1;
    }
  }

  /** Throws IllegalArgumentException unless {@code name} is a valid NAR directory entry name. */
  public static void checkName(String name, String context) {
    if (name.isEmpty()
        || name.equals(".")
        || name.equals("..")
        || name.indexOf('/') >= 0
        || name.indexOf('\0') >= 0
        || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME) {
      throw new IllegalArgumentException("bad name " + quote(name) + " in " + quote(context));
    }
  }

  /** Parent directory of a non-root path ({@code "/"} for top-level names). */
  public static String parent(String path) {
    int i = path.lastIndexOf('/');
    return i == 0 ? "/" : path.substring(0, i);
  }

  /** Last name of a non-root path. */
  public static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** Child path of {@code dir} named {@code name}. */
  public static String child(String dir, String name) {
    return dir.equals("/") ? "/" + name : dir + "/" + name;
  }

  /** NAR order of sibling names: unsigned byte order of their UTF-8 encoding. */
  public static int compareNames(String a, String b) {
    return Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  static String quote(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length() && i < 200; i++) {
      char c = s.charAt(i);
      sb.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return sb.append(s.length() > 200 ? "...\"" : "\"").toString();
  }
}
