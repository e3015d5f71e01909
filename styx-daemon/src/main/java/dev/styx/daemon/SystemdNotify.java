package dev.styx.daemon;

import dev.styx.kernel.UnixSocket;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * systemd {@code Type=notify} messages ({@code READY=1}, {@code STATUS=...}, {@code STOPPING=1}) as
 * datagrams to {@code $NOTIFY_SOCKET}; a no-op when not started by systemd.
 */
public final class SystemdNotify {
  private static final Logger log = LoggerFactory.getLogger(SystemdNotify.class);
  private final String socket;

  public SystemdNotify(String socket) {
    this.socket = socket == null || socket.isEmpty() ? null : socket;
  }

  /** From the environment. */
  public static SystemdNotify fromEnv() {
    return new SystemdNotify(System.getenv("NOTIFY_SOCKET"));
  }

  public boolean enabled() {
    return socket != null;
  }

  public void ready(String status) {
    send("READY=1\nSTATUS=" + status);
  }

  public void status(String status) {
    send("STATUS=" + status);
  }

  public void stopping() {
    send("STOPPING=1\nSTATUS=stopping");
  }

  private void send(String msg) {
    if (socket == null) {
      return;
    }
    try {
      try (UnixSocket s = UnixSocket.create(UnixSocket.SOCK_DGRAM)) {
        s.sendTo(socket, msg.getBytes(StandardCharsets.UTF_8));
      }
    } catch (Exception e) {
      log.warn("cannot notify systemd at {}: {}", socket, e.getMessage());
    }
  }
}
