package dev.styx.kernel.fdstore;

import dev.styx.kernel.Syscalls;
import dev.styx.kernel.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny process that stands in for systemd's fd store where there is no systemd (tests, the demo):
 * it listens on a SOCK_SEQPACKET Unix socket, keeps the fds sent to it by name, and hands them all
 * back to whoever asks. Messages use the sd_notify format: {@code FDSTORE=1 FDNAME=x} with one fd,
 * {@code FDSTOREREMOVE=1 FDNAME=x}, and the Styx extension {@code FDGET=1}, answered by one {@code
 * FDNAME=x} message per fd and a final {@code FDGET_END=1}. Store and remove are answered {@code
 * OK=1}. Run it as {@code styx fd-holder --socket PATH}.
 */
public final class FdHolder implements AutoCloseable {
  static final String GET = "FDGET";
  static final String GET_END = "FDGET_END";
  static final String OK = "OK";

  private final Path path;
  private final UnixSocket listener;
  private final Map<String, Integer> fds = new LinkedHashMap<>();
  private volatile boolean closed;

  private FdHolder(Path path, UnixSocket listener) {
    this.path = path;
    this.listener = listener;
  }

  /** Binds {@code socket} (replacing a stale socket file), readable and writable by root only. */
  public static FdHolder bind(Path socket) throws IOException {
    if (Files.exists(socket, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      var attrs =
          Files.readAttributes(
              socket,
              java.nio.file.attribute.BasicFileAttributes.class,
              java.nio.file.LinkOption.NOFOLLOW_LINKS);
      if (!attrs.isOther()) {
        throw new IOException("refusing to replace non-socket file " + socket);
      }
      Files.delete(socket);
    }
    UnixSocket l = UnixSocket.listen(socket.toString(), UnixSocket.SOCK_SEQPACKET);
    try {
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException e) {
      l.close();
      throw e;
    }
    return new FdHolder(socket, l);
  }

  /** Serves connections until closed; each connection gets its own platform thread. */
  public void serve() throws IOException {
    while (!closed) {
      UnixSocket c;
      try {
        c = listener.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        throw e;
      }
      // Platform thread: it sits in recvmsg(2), a native call.
      Thread.ofPlatform().daemon().name("fd-holder-conn").start(() -> handle(c));
    }
  }

  /** How many fds are held now. */
  public synchronized int size() {
    return fds.size();
  }

  private void handle(UnixSocket c) {
    try (c) {
      while (true) {
        UnixSocket.Message m = c.receive(4096, 8);
        if (m.isEof()) {
          return;
        }
        int[] extra = answer(c, m);
        for (int fd : extra) {
          Syscalls.close(fd);
        }
      }
    } catch (IOException | RuntimeException e) {
      System.err.println("fd-holder: connection ended: " + e.getMessage());
    }
  }

  /** Handles one request; returns fds received but not kept (to be closed). */
  private int[] answer(UnixSocket c, UnixSocket.Message m) throws IOException {
    NotifyMessage msg;
    try {
      msg = NotifyMessage.parse(m.payload());
    } catch (IllegalArgumentException e) {
      c.send(NotifyMessage.format("ERROR", e.getMessage()));
      return m.fds();
    }
    if (msg.flag("FDSTORE")) {
      String name = msg.get("FDNAME");
      if (name == null || m.fds().length != 1) {
        c.send(NotifyMessage.format("ERROR", "FDSTORE needs FDNAME and exactly one fd"));
        return m.fds();
      }
      FdStore.checkName(name);
      Integer old;
      synchronized (this) {
        old = fds.put(name, m.fds()[0]);
      }
      c.send(NotifyMessage.format(OK, "1"));
      return old == null ? new int[0] : new int[] {old};
    }
    if (msg.flag("FDSTOREREMOVE")) {
      Integer old;
      synchronized (this) {
        old = fds.remove(msg.get("FDNAME"));
      }
      c.send(NotifyMessage.format(OK, "1"));
      return old == null ? m.fds() : new int[] {old};
    }
    if (msg.flag(GET)) {
      Map<String, Integer> snapshot;
      synchronized (this) {
        snapshot = new LinkedHashMap<>(fds);
      }
      for (var e : snapshot.entrySet()) {
        c.send(NotifyMessage.format("FDNAME", e.getKey()), e.getValue());
      }
      c.send(NotifyMessage.format(GET_END, "1"));
      return m.fds();
    }
    c.send(NotifyMessage.format("ERROR", "unknown request"));
    return m.fds();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    listener.close();
    for (int fd : fds.values()) {
      try {
        Syscalls.close(fd);
      } catch (IOException e) {
        // Best effort at shutdown.
      }
    }
    fds.clear();
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // Best effort at shutdown.
    }
  }

  /** {@code FdHolder --socket PATH}: the holder as a standalone process. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2 || !args[0].equals("--socket")) {
      System.err.println("usage: FdHolder --socket PATH");
      System.exit(2);
    }
    try (FdHolder h = bind(Path.of(args[1]))) {
      Runtime.getRuntime().addShutdownHook(new Thread(h::close, "fd-holder-stop"));
      System.err.println("fd-holder: listening on " + args[1]);
      System.err.flush();
      h.serve();
    }
  }
}
