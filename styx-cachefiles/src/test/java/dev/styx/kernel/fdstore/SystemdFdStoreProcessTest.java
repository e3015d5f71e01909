package dev.styx.kernel.fdstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.Syscalls;
import dev.styx.kernel.UnixSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd fd store across a real exec: a process started like a systemd service (fd 3
 * inherited, LISTEN_* pointing at it, NOTIFY_SOCKET set) gets its fd back by name and stores one
 * with an FDSTORE=1 datagram that carries the fd.
 */
class SystemdFdStoreProcessTest {
  @TempDir Path tmp;

  @Test
  void serviceGetsNamedFdsAndStoresNewOnes() throws Exception {
    Path file = tmp.resolve("held");
    Files.writeString(file, "x");
    Path sock = tmp.resolve("notify.sock");
    try (UnixSocket notify = UnixSocket.listen(sock.toString(), UnixSocket.SOCK_DGRAM)) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      // sh keeps its pid across exec, so $$ is the pid the JVM will have (what systemd sets).
      String script =
          "exec 3<\"$HELD\"; LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=fanotify exec \"$JAVA\" -cp"
              + " \"$CP\" "
              + SystemdFdChild.class.getName();
      ProcessBuilder pb = new ProcessBuilder("sh", "-c", script);
      pb.environment().put("HELD", file.toString());
      pb.environment().put("JAVA", java);
      pb.environment().put("CP", System.getProperty("java.class.path"));
      pb.environment().put("NOTIFY_SOCKET", sock.toString());
      pb.redirectError(tmp.resolve("child.err").toFile());
      Process p = pb.start();
      List<String> out = new String(p.getInputStream().readAllBytes()).lines().toList();
      assertEquals(0, p.waitFor(), () -> out + " / " + readErr());
      assertEquals("UNTAKEN [fanotify]", out.get(0));
      int fd = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      try {
        assertEquals("GOT 3 " + Syscalls.fileId(fd), out.get(1));
      } finally {
        Syscalls.close(fd);
      }
      assertEquals("CLOEXEC true", out.get(2), "inherited fd made close-on-exec");
      UnixSocket.Message m = notify.receive(4096, 4);
      assertEquals("FDSTORE=1\nFDNAME=slab-0\nFDPOLL=0\n", m.text());
      assertEquals(1, m.fds().length);
      int got = m.fds()[0];
      int again = Syscalls.open(file, Syscalls.O_RDONLY | Syscalls.O_CLOEXEC, 0);
      try {
        assertTrue(Syscalls.fileId(got).equals(Syscalls.fileId(again)), "the fd came along");
      } finally {
        Syscalls.close(again);
        Syscalls.close(got);
      }
    }
  }

  private String readErr() {
    try {
      return Files.readString(tmp.resolve("child.err"));
    } catch (Exception e) {
      return "";
    }
  }
}
