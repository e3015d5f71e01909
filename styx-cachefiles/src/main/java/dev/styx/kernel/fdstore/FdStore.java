package dev.styx.kernel.fdstore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Somewhere outside the daemon process that keeps named fds alive across a daemon crash or restart
 * and hands them back: systemd's fd store ({@code FDSTORE=1}) or, without systemd, the {@link
 * FdHolder} process. The fanotify group must outlive the daemon, since a dying group answers its
 * pending events with ALLOW and readers get zeros.
 */
public interface FdStore extends AutoCloseable {

  /** A one-line description for logs, e.g. "systemd fd store" or "fd holder at /run/x.sock". */
  String describe();

  /**
   * Takes ownership of the fd handed back under {@code name} at start, if any; each name can be
   * taken once.
   */
  OptionalInt take(String name);

  /** The names of the fds handed back at start and not yet taken. */
  Map<String, Integer> untaken();

  /** Stores a copy of {@code fd} under {@code name} (the caller keeps its own fd). */
  void store(String name, int fd) throws IOException;

  /** Drops the fd stored under {@code name}, if any. */
  void remove(String name) throws IOException;

  @Override
  void close();

  /**
   * The store to use: the holder at {@code holderSocket} if given, else systemd's if {@code
   * $NOTIFY_SOCKET} is set, else none.
   */
  static Optional<FdStore> detect(Path holderSocket) throws IOException {
    if (holderSocket != null) {
      return Optional.of(HolderFdStore.connect(holderSocket));
    }
    if (System.getenv("NOTIFY_SOCKET") != null) {
      return Optional.of(SystemdFdStore.fromEnvironment());
    }
    return Optional.empty();
  }

  /**
   * Checks a name against systemd's FDNAME rules (1..255 printable ASCII, no ':'), which the holder
   * applies too so that both stores accept the same names.
   */
  static String checkName(String name) {
    if (name.isEmpty() || name.length() > 255) {
      throw new IllegalArgumentException("fd name must be 1..255 characters: " + name);
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == ':') {
        throw new IllegalArgumentException("fd name has a forbidden character: " + name);
      }
    }
    return name;
  }
}
