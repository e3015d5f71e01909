package dev.styx.kernel.fdstore;

import dev.styx.kernel.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run by {@link SystemdFdStoreProcessTest} the way systemd starts a service: fds from 3 on,
 * LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES and NOTIFY_SOCKET in the environment. Prints what it got
 * back and stores a fd of its own.
 */
public final class SystemdFdChild {
  private SystemdFdChild() {}

  public static void main(String[] args) throws Exception {
    SystemdFdStore store = SystemdFdStore.fromEnvironment();
    System.out.println("UNTAKEN " + store.untaken().keySet());
    int fd = store.take("fanotify").orElseThrow();
    String flags = Files.readString(Path.of("/proc/self/fdinfo/" + fd));
    System.out.println("GOT " + fd + " " + Syscalls.fileId(fd));
    System.out.println("CLOEXEC " + flags.contains("flags:\t02"));
    store.store("slab-0", fd);
    System.out.println("STORED");
  }
}
