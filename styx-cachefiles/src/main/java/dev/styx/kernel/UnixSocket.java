package dev.styx.kernel;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import jnr.ffi.Pointer;

/**
 * An AF_UNIX socket driven through raw syscalls, because the JDK's Unix-domain channels cannot pass
 * file descriptors: messages carry an optional SCM_RIGHTS payload of fds. Used to hand the fanotify
 * group and slab fds to systemd's fd store or to the fd holder, and to take them back. Addresses
 * are filesystem paths, or abstract names written with a leading {@code @} (systemd's convention
 * for {@code $NOTIFY_SOCKET}).
 */
public final class UnixSocket implements AutoCloseable {
  public static final int SOCK_DGRAM = 2;
  public static final int SOCK_SEQPACKET = 5;
  private static final int AF_UNIX = 1;
  private static final int SOCK_CLOEXEC = 02000000;
  private static final int SOL_SOCKET = 1;
  private static final int SCM_RIGHTS = 1;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int MSG_CTRUNC = 0x8;
  private static final int MSG_CMSG_CLOEXEC = 0x40000000;
  // x86-64 struct msghdr (56 bytes) and struct cmsghdr header (16 bytes)
  private static final int MSGHDR_SIZE = 56;
  private static final int CMSG_HDR = 16;
  private static final int SUN_PATH_MAX = 108;

  /** One received message: its bytes and the fds that came with it (now owned by the receiver). */
  public record Message(byte[] payload, int[] fds) {
    /** The payload as UTF-8 text. */
    public String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    /** A zero-length message with no fds: on a SOCK_SEQPACKET socket, the peer has hung up. */
    public boolean isEof() {
      return payload.length == 0 && fds.length == 0;
    }
  }

  private final int fd;
  private volatile boolean closed;

  private UnixSocket(int fd) {
    this.fd = fd;
  }

  /** An unbound socket of {@code type} (for {@link #sendTo} on datagram sockets). */
  public static UnixSocket create(int type) throws SyscallException {
    int fd = Syscalls.libc().socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw Syscalls.error("socket(AF_UNIX, " + type + ")");
    }
    return new UnixSocket(fd);
  }

  /** A socket of {@code type} bound to {@code address} and listening. */
  public static UnixSocket listen(String address, int type) throws SyscallException {
    UnixSocket s = create(type);
    try {
      Addr a = addr(address);
      if (Syscalls.libc().bind(s.fd, a.ptr, a.len) != 0) {
        throw Syscalls.error("bind(" + address + ")");
      }
      if (type != SOCK_DGRAM && Syscalls.libc().listen(s.fd, 16) != 0) {
        throw Syscalls.error("listen(" + address + ")");
      }
      return s;
    } catch (SyscallException e) {
      s.close();
      throw e;
    }
  }

  /** A socket of {@code type} connected to {@code address}. */
  public static UnixSocket connect(String address, int type) throws SyscallException {
    UnixSocket s = create(type);
    Addr a = addr(address);
    if (Syscalls.libc().connect(s.fd, a.ptr, a.len) != 0) {
      SyscallException e = Syscalls.error("connect(" + address + ")");
      s.close();
      throw e;
    }
    return s;
  }

  /** The raw fd. */
  public int fd() {
    return fd;
  }

  /** Accepts one connection (blocks). */
  public UnixSocket accept() throws SyscallException {
    int c = Syscalls.libc().accept4(fd, null, null, SOCK_CLOEXEC);
    if (c < 0) {
      throw Syscalls.error("accept4(" + fd + ")");
    }
    return new UnixSocket(c);
  }

  /** Sends one message on a connected socket, with {@code fds} attached (may be empty). */
  public void send(byte[] payload, int... fds) throws SyscallException {
    sendmsg(null, payload, fds);
  }

  /** Sends one datagram to {@code address}, with {@code fds} attached (may be empty). */
  public void sendTo(String address, byte[] payload, int... fds) throws SyscallException {
    sendmsg(addr(address), payload, fds);
  }

  private void sendmsg(Addr to, byte[] payload, int[] fds) throws SyscallException {
    Pointer data = Syscalls.allocate(Math.max(1, payload.length));
    data.put(0, payload, 0, payload.length);
    Pointer iov = Syscalls.allocate(16);
    iov.putAddress(0, data.address());
    iov.putLong(8, payload.length);
    Pointer msg = Syscalls.allocate(MSGHDR_SIZE);
    msg.setMemory(0, MSGHDR_SIZE, (byte) 0);
    if (to != null) {
      msg.putAddress(0, to.ptr.address());
      msg.putInt(8, to.len);
    }
    msg.putAddress(16, iov.address());
    msg.putLong(24, 1);
    if (fds.length > 0) {
      int space = CMSG_HDR + align8(4 * fds.length);
      Pointer ctl = Syscalls.allocate(space);
      ctl.setMemory(0, space, (byte) 0);
      ctl.putLong(0, CMSG_HDR + 4L * fds.length);
      ctl.putInt(8, SOL_SOCKET);
      ctl.putInt(12, SCM_RIGHTS);
      for (int i = 0; i < fds.length; i++) {
        ctl.putInt(CMSG_HDR + 4L * i, fds[i]);
      }
      msg.putAddress(32, ctl.address());
      msg.putLong(40, space);
    }
    long n = Syscalls.libc().sendmsg(fd, msg, MSG_NOSIGNAL);
    if (n < 0) {
      throw Syscalls.error(
          "sendmsg(" + fd + ", " + payload.length + " bytes, " + fds.length + " fds)");
    }
    if (n != payload.length) {
      throw new SyscallException("sendmsg(" + fd + ") short write", 0, n + " of " + payload.length);
    }
  }

  /**
   * Receives one message of up to {@code maxBytes} with up to {@code maxFds} fds (close-on-exec).
   * Blocks until one arrives.
   */
  public Message receive(int maxBytes, int maxFds) throws SyscallException {
    Pointer data = Syscalls.allocate(maxBytes);
    Pointer iov = Syscalls.allocate(16);
    iov.putAddress(0, data.address());
    iov.putLong(8, maxBytes);
    int space = CMSG_HDR + align8(4 * Math.max(1, maxFds));
    Pointer ctl = Syscalls.allocate(space);
    ctl.setMemory(0, space, (byte) 0);
    Pointer msg = Syscalls.allocate(MSGHDR_SIZE);
    msg.setMemory(0, MSGHDR_SIZE, (byte) 0);
    msg.putAddress(16, iov.address());
    msg.putLong(24, 1);
    msg.putAddress(32, ctl.address());
    msg.putLong(40, space);
    long n;
    do {
      n = Syscalls.libc().recvmsg(fd, msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && Syscalls.errno() == Syscalls.EINTR);
    if (n < 0) {
      throw Syscalls.error("recvmsg(" + fd + ")");
    }
    long ctlLen = msg.getLong(40);
    int[] fds = new int[0];
    for (long off = 0; off + CMSG_HDR <= ctlLen; ) {
      long len = ctl.getLong(off);
      if (len < CMSG_HDR) {
        break;
      }
      if (ctl.getInt(off + 8) == SOL_SOCKET && ctl.getInt(off + 12) == SCM_RIGHTS) {
        int count = (int) ((len - CMSG_HDR) / 4);
        int base = fds.length;
        fds = Arrays.copyOf(fds, base + count);
        for (int i = 0; i < count; i++) {
          fds[base + i] = ctl.getInt(off + CMSG_HDR + 4L * i);
        }
      }
      off += align8((int) len);
    }
    if ((msg.getInt(48) & MSG_CTRUNC) != 0) {
      for (int f : fds) {
        Syscalls.libc().close(f);
      }
      throw new SyscallException("recvmsg(" + fd + ")", 0, "more than " + maxFds + " fds sent");
    }
    byte[] payload = new byte[(int) n];
    data.get(0, payload, 0, (int) n);
    return new Message(payload, fds);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Syscalls.libc().close(fd);
    }
  }

  private record Addr(Pointer ptr, int len) {}

  /** struct sockaddr_un: {@code sun_family} (u16) then {@code sun_path[108]}. */
  private static Addr addr(String address) {
    byte[] path = address.getBytes(StandardCharsets.UTF_8);
    boolean abstractName = address.startsWith("@");
    if (path.length == 0 || path.length >= SUN_PATH_MAX) {
      throw new IllegalArgumentException(
          "unix socket address must be 1.." + (SUN_PATH_MAX - 1) + " bytes: " + address);
    }
    if (!abstractName && address.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("unix socket path contains NUL: " + address);
    }
    Pointer p = Syscalls.allocate(2 + SUN_PATH_MAX);
    p.setMemory(0, 2 + SUN_PATH_MAX, (byte) 0);
    p.putShort(0, (short) AF_UNIX);
    p.put(2, path, 0, path.length);
    if (abstractName) {
      p.putByte(2, (byte) 0); // the leading '@' stands for the abstract namespace's NUL
      return new Addr(p, 2 + path.length);
    }
    return new Addr(p, 2 + path.length + 1);
  }

  private static int align8(int n) {
    return (n + 7) & ~7;
  }
}
