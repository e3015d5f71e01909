package dev.styx.kernel.fdstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Syscalls;
import dev.styx.kernel.UnixSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fd stores over real Unix sockets with real SCM_RIGHTS: an fd sent to the holder comes back to
 * a new client referring to the same open file; the systemd store sends the documented sd_notify
 * datagram with the fd attached.
 */
class FdStoreTest {
  @TempDir Path tmp;

  @Test
  void holderKeepsNamedFdsAndHandsThemToTheNextClient() throws Exception {
    Path sock = tmp.resolve("holder.sock");
    Path file = tmp.resolve("data");
    Files.writeString(file, "held open");
    try (FdHolder holder = FdHolder.bind(sock)) {
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try {
                  holder.serve();
                } catch (Exception e) {
                  // closed
                }
              });
      int fd = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      try (HolderFdStore first = HolderFdStore.connect(sock)) {
        assertTrue(first.untaken().isEmpty());
        first.store("fanotify", fd);
        first.store("slab-0", fd);
        first.store("gone", fd);
        first.remove("gone");
        assertThrows(IllegalArgumentException.class, () -> first.store("bad:name", fd));
      }
      Syscalls.close(fd);
      Files.delete(file); // only the held fds keep the file alive now
      assertEquals(2, holder.size());
      try (HolderFdStore second = HolderFdStore.connect(sock)) {
        assertEquals(java.util.Set.of("fanotify", "slab-0"), second.untaken().keySet());
        OptionalInt got = second.take("fanotify");
        assertTrue(got.isPresent());
        assertFalse(second.take("fanotify").isPresent(), "taken once");
        ByteBuffer buf = ByteBuffer.allocateDirect(64);
        int n = Syscalls.pread(got.getAsInt(), buf, 0);
        byte[] b = new byte[n];
        buf.flip().get(b);
        assertEquals("held open", new String(b, StandardCharsets.UTF_8));
        Syscalls.close(got.getAsInt());
        Syscalls.close(second.take("slab-0").getAsInt());
      }
    }
    assertFalse(Files.exists(sock), "socket removed on close");
  }

  @Test
  void systemdStoreSendsFdstoreNotificationsWithTheFd() throws Exception {
    Path sock = tmp.resolve("notify.sock");
    try (UnixSocket notify = UnixSocket.listen(sock.toString(), UnixSocket.SOCK_DGRAM)) {
      SystemdFdStore store = new SystemdFdStore(sock.toString(), Map.of());
      int fd = Syscalls.open(Path.of("/dev/null"), Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      store.store("fanotify", fd);
      UnixSocket.Message m = notify.receive(4096, 4);
      assertEquals("FDSTORE=1\nFDNAME=fanotify\nFDPOLL=0\n", m.text());
      assertEquals(1, m.fds().length);
      assertEquals(Syscalls.fileId(fd), Syscalls.fileId(m.fds()[0]), "same open file");
      store.remove("fanotify");
      UnixSocket.Message r = notify.receive(4096, 4);
      assertEquals("FDSTOREREMOVE=1\nFDNAME=fanotify\n", r.text());
      assertEquals(0, r.fds().length);
      Syscalls.close(fd);
      Syscalls.close(m.fds()[0]);
    }
  }

  @Test
  void listenFdsFollowSdListenFdsWithNames() {
    Map<String, String> env =
        Map.of("LISTEN_PID", "42", "LISTEN_FDS", "3", "LISTEN_FDNAMES", "fanotify:slab-0:");
    assertEquals(
        Map.of("fanotify", 3, "slab-0", 4, "unknown", 5), SystemdFdStore.listenFds(env, 42));
    assertTrue(SystemdFdStore.listenFds(env, 43).isEmpty(), "fds meant for another pid");
    assertTrue(SystemdFdStore.listenFds(Map.of(), 42).isEmpty());
    assertThrows(
        IllegalArgumentException.class,
        () -> SystemdFdStore.listenFds(Map.of("LISTEN_PID", "x", "LISTEN_FDS", "1"), 42));
  }

  @Test
  void notifyMessagesRoundTrip() {
    byte[] b = NotifyMessage.format("FDSTORE", "1", "FDNAME", "fanotify");
    NotifyMessage m = NotifyMessage.parse(b);
    assertTrue(m.flag("FDSTORE"));
    assertEquals("fanotify", m.get("FDNAME"));
    assertArrayEquals("FDSTORE=1\nFDNAME=fanotify\n".getBytes(), b);
    assertThrows(IllegalArgumentException.class, () -> NotifyMessage.parse("junk".getBytes()));
    assertThrows(IllegalArgumentException.class, () -> NotifyMessage.format("K", "a\nb"));
  }
}
