package dev.styx.kernel.fdstore;

import dev.styx.kernel.UnixSocket;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The client side of the {@link FdHolder}: on connect it asks for every fd the holder keeps (they
 * play the part of systemd's {@code LISTEN_FDS}), then stores and removes fds over the same
 * connection, each acknowledged so that a stored fd is safe once {@link #store} returns.
 */
public final class HolderFdStore implements FdStore {
  private final Path socket;
  private final UnixSocket conn;
  private final Map<String, Integer> restored = new LinkedHashMap<>();

  private HolderFdStore(Path socket, UnixSocket conn) {
    this.socket = socket;
    this.conn = conn;
  }

  /** Connects to the holder at {@code socket} and receives the fds it keeps. */
  public static HolderFdStore connect(Path socket) throws IOException {
    UnixSocket c;
    try {
      c = UnixSocket.connect(socket.toString(), UnixSocket.SOCK_SEQPACKET);
    } catch (IOException e) {
      throw new IOException("cannot reach the fd holder at " + socket + ": " + e.getMessage(), e);
    }
    HolderFdStore s = new HolderFdStore(socket, c);
    try {
      s.fetchAll();
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return s;
  }

  private synchronized void fetchAll() throws IOException {
    conn.send(NotifyMessage.format(FdHolder.GET, "1"));
    while (true) {
      UnixSocket.Message m = conn.receive(4096, 4);
      if (m.isEof()) {
        throw new IOException("fd holder at " + socket + " hung up while sending fds");
      }
      NotifyMessage msg = NotifyMessage.parse(m.payload());
      if (msg.get(FdHolder.GET_END) != null) {
        return;
      }
      String name = msg.get("FDNAME");
      if (name == null || m.fds().length != 1) {
        throw new IOException("fd holder sent a malformed fd message: " + m.text().strip());
      }
      restored.put(name, m.fds()[0]);
    }
  }

  @Override
  public String describe() {
    return "fd holder at " + socket;
  }

  @Override
  public synchronized OptionalInt take(String name) {
    Integer fd = restored.remove(name);
    return fd == null ? OptionalInt.empty() : OptionalInt.of(fd);
  }

  @Override
  public synchronized Map<String, Integer> untaken() {
    return Map.copyOf(restored);
  }

  @Override
  public synchronized void store(String name, int fd) throws IOException {
    conn.send(NotifyMessage.format("FDSTORE", "1", "FDNAME", FdStore.checkName(name)), fd);
    awaitAck("store " + name);
  }

  @Override
  public synchronized void remove(String name) throws IOException {
    conn.send(NotifyMessage.format("FDSTOREREMOVE", "1", "FDNAME", FdStore.checkName(name)));
    awaitAck("remove " + name);
  }

  private void awaitAck(String what) throws IOException {
    UnixSocket.Message m = conn.receive(4096, 1);
    if (m.isEof() || !NotifyMessage.parse(m.payload()).flag(FdHolder.OK)) {
      throw new IOException("fd holder at " + socket + " refused to " + what + ": " + m.text());
    }
  }

  @Override
  public void close() {
    conn.close();
  }
}
