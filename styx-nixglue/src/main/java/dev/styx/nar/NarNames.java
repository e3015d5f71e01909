package dev.styx.nar;

/** The rules for NAR entry names and symlink targets, shared by reader, writer and paths. */
final class NarNames {
  /** Longest entry name (NAME_MAX). */
  static final int MAX_NAME = 255;

  /** Longest symlink target (PATH_MAX - 1). */
  static final int MAX_TARGET = 4095;

  private NarNames() {}

  /** Why {@code name} is not a valid entry name, or null if it is. */
  static String problem(byte[] name) {
    if (name.length == 0) {
      return "empty name";
    }
    if (name.length > MAX_NAME) {
      return "name of " + name.length + " bytes is longer than " + MAX_NAME;
    }
    if (name.length == 1 && name[0] == '.') {
      return "name '.'";
    }
    if (name.length == 2 && name[0] == '.' && name[1] == '.') {
      return "name '..'";
    }
    for (byte b : name) {
      if (b == '/') {
        return "name contains '/'";
      }
      if (b == 0) {
        return "name contains NUL";
      }
    }
    return null;
  }

  /** Why {@code target} is not a valid symlink target, or null if it is. */
  static String targetProblem(byte[] target) {
    if (target.length == 0) {
      return "empty symlink target";
    }
    if (target.length > MAX_TARGET) {
      return "symlink target of " + target.length + " bytes is longer than " + MAX_TARGET;
    }
    for (byte b : target) {
      if (b == 0) {
        return "symlink target contains NUL";
      }
    }
    return null;
  }
}
