package dev.styx.kernel.fdstore;

import dev.styx.kernel.Syscalls;
import dev.styx.kernel.UnixSocket;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * systemd's fd store: fds go out as {@code FDSTORE=1} notifications with SCM_RIGHTS on {@code
 * $NOTIFY_SOCKET} and come back on the next start as {@code LISTEN_FDS} (starting at fd 3) named by
 * {@code LISTEN_FDNAMES}. The unit needs {@code FileDescriptorStoreMax=} > 0 (and, to keep fds over
 * a stop, {@code FileDescriptorStorePreserve=yes}).
 */
public final class SystemdFdStore implements FdStore {
  /** The first fd systemd passes (SD_LISTEN_FDS_START). */
  public static final int LISTEN_FDS_START = 3;

  private final String notifySocket;
  private final Map<String, Integer> restored;

  SystemdFdStore(String notifySocket, Map<String, Integer> restored) {
    this.notifySocket = notifySocket;
    this.restored = new LinkedHashMap<>(restored);
  }

  /** The store described by this process's environment ($NOTIFY_SOCKET, $LISTEN_*). */
  public static SystemdFdStore fromEnvironment() {
    String sock = System.getenv("NOTIFY_SOCKET");
    if (sock == null || sock.isEmpty()) {
      throw new IllegalStateException("NOTIFY_SOCKET is not set: not running under systemd");
    }
    if (!sock.startsWith("/") && !sock.startsWith("@")) {
      throw new IllegalArgumentException("unsupported NOTIFY_SOCKET address: " + sock);
    }
    return new SystemdFdStore(sock, listenFds(System.getenv(), Syscalls.getpid()));
  }

  /**
   * The named fds systemd passed to process {@code pid} (sd_listen_fds_with_names(3) semantics):
   * none unless {@code LISTEN_PID} is {@code pid}; unnamed fds are called "unknown".
   */
  public static Map<String, Integer> listenFds(Map<String, String> env, long pid) {
    Map<String, Integer> out = new LinkedHashMap<>();
    String lp = env.get("LISTEN_PID");
    String lf = env.get("LISTEN_FDS");
    if (lp == null || lf == null) {
      return out;
    }
    long listenPid;
    int count;
    try {
      listenPid = Long.parseLong(lp.trim());
      count = Integer.parseInt(lf.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("malformed LISTEN_PID/LISTEN_FDS: " + lp + "/" + lf);
    }
    if (listenPid != pid || count <= 0) {
      return out;
    }
    String namesVar = env.get("LISTEN_FDNAMES");
    String[] names = namesVar == null ? new String[0] : namesVar.split(":", -1);
    for (int i = 0; i < count; i++) {
      String name = i < names.length && !names[i].isEmpty() ? names[i] : "unknown";
      // A name stored twice comes back twice; the first one wins, later copies stay untaken.
      out.putIfAbsent(name, LISTEN_FDS_START + i);
    }
    return out;
  }

  @Override
  public String describe() {
    return "systemd fd store via " + notifySocket;
  }

  @Override
  public synchronized OptionalInt take(String name) {
    Integer fd = restored.remove(name);
    if (fd == null) {
      return OptionalInt.empty();
    }
    try {
      // Inherited fds come without close-on-exec: keep the group out of child processes.
      Syscalls.setCloexec(fd);
    } catch (IOException e) {
      throw new IllegalStateException(
          "fd " + fd + " named " + name + " from systemd is unusable", e);
    }
    return OptionalInt.of(fd);
  }

  @Override
  public synchronized Map<String, Integer> untaken() {
    return Map.copyOf(restored);
  }

  @Override
  public void store(String name, int fd) throws IOException {
    // FDPOLL=0: systemd must not drop the fd on EPOLLHUP/EPOLLERR; a fanotify group is kept for
    // its pending events, not for its readiness.
    notify(
        NotifyMessage.format("FDSTORE", "1", "FDNAME", FdStore.checkName(name), "FDPOLL", "0"), fd);
  }

  @Override
  public void remove(String name) throws IOException {
    notify(NotifyMessage.format("FDSTOREREMOVE", "1", "FDNAME", FdStore.checkName(name)));
  }

  private void notify(byte[] msg, int... fds) throws IOException {
    try (UnixSocket s = UnixSocket.create(UnixSocket.SOCK_DGRAM)) {
      s.sendTo(notifySocket, msg, fds);
    }
  }

  @Override
  public void close() {
    // Nothing to release: each notification uses its own socket.
  }
}
