package dev.styx.kernel.cachefiles;

import dev.styx.kernel.SyscallException;
import dev.styx.kernel.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The {@code /dev/cachefiles} character device (fs/cachefiles/daemon.c): one text command per
 * write(2) ({@code dir}, {@code tag}, {@code bind ondemand}, {@code copen}, {@code restore}), one
 * request per read(2), POLLIN while a new request waits. Only one process may have it open.
 */
public final class CachefilesDevice {
  /** The device node. */
  public static final Path PATH = Path.of("/dev/cachefiles");

  /** {@code CACHEFILES_IOC_READ_COMPLETE = _IOW(0x98, 1, int)}. */
  public static final long IOC_READ_COMPLETE = 0x40049801L;

  static final int EBUSY = 16;
  static final int EINVAL = 22;
  static final int ENODEV = 19;
  static final int ENOENT = 2;
  static final int EOPNOTSUPP = 95;

  private final int fd;

  private CachefilesDevice(int fd) {
    this.fd = fd;
  }

  /** Wraps an fd of the device handed back by an fd store. */
  public static CachefilesDevice ofFd(int fd) {
    return new CachefilesDevice(fd);
  }

  /**
   * Opens the device and binds an on-demand cache in {@code dir} with {@code tag}. Errors name the
   * likely cause (another cachefiles daemon, a kernel without on-demand mode, tmpfs).
   */
  public static CachefilesDevice openAndBind(Path dir, String tag) throws IOException {
    int fd;
    try {
      fd = Syscalls.open(PATH, Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
    } catch (SyscallException e) {
      throw new IOException(
          switch (e.errno()) {
            case EBUSY ->
                PATH + " is already open in another process (cachefilesd, or another styx daemon)";
            case ENOENT, ENODEV -> "kernel has no cachefiles (CONFIG_CACHEFILES): no " + PATH;
            case 1, 13 -> "opening " + PATH + " needs CAP_SYS_ADMIN (run as root)";
            default -> "cannot open " + PATH + ": " + e.getMessage();
          },
          e);
    }
    CachefilesDevice d = new CachefilesDevice(fd);
    try {
      d.command("dir " + checkedPath(dir));
      d.command("tag " + tag);
      try {
        d.command("bind ondemand");
      } catch (SyscallException e) {
        throw new IOException(
            switch (e.errno()) {
              case EINVAL ->
                  "kernel refuses 'bind ondemand' (needs CONFIG_CACHEFILES_ONDEMAND,"
                      + " i.e. CONFIG_EROFS_FS_ONDEMAND)";
              case EOPNOTSUPP ->
                  "the file system of " + dir + " cannot hold a cachefiles cache (use ext4/xfs)";
              default -> "cachefiles bind in " + dir + " failed: " + e.getMessage();
            },
            e);
      }
      return d;
    } catch (IOException | RuntimeException e) {
      d.closeQuietly();
      throw e;
    }
  }

  private static String checkedPath(Path dir) {
    String s = dir.toAbsolutePath().toString();
    if (s.indexOf('\n') >= 0 || s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("cache directory unusable in a devnode command: " + s);
    }
    return s;
  }

  /** The fd (for the fd store and poll). */
  public int fd() {
    return fd;
  }

  /** Writes one command (no newline, no NUL: the kernel takes one command per write). */
  public void command(String cmd) throws SyscallException {
    byte[] b = cmd.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.allocateDirect(b.length).put(b).flip();
    Syscalls.writeFully(fd, buf);
  }

  /** Re-queues every request a previous daemon read but did not answer (Linux 6.8+). */
  public void restore() throws SyscallException {
    command("restore");
  }

  /** Answers OPEN {@code msgId}: the object's size, or a negative errno to fail it. */
  public void copen(int msgId, long sizeOrNegErrno) throws SyscallException {
    command("copen " + Integer.toUnsignedString(msgId) + "," + sizeOrNegErrno);
  }

  /**
   * Waits up to {@code timeoutMs} for a request and reads it; empty when none is pending. {@code
   * buf} must be a direct buffer of {@link CachefilesMessage#MAX_SIZE} bytes.
   */
  public Optional<CachefilesMessage> next(ByteBuffer buf, int timeoutMs) throws IOException {
    if ((Syscalls.poll(fd, Syscalls.POLLIN, timeoutMs) & Syscalls.POLLIN) == 0) {
      return Optional.empty();
    }
    return readOne(buf);
  }

  /** Reads one request without waiting; empty when none is pending (read(2) returns 0). */
  public Optional<CachefilesMessage> readOne(ByteBuffer buf) throws IOException {
    buf.clear();
    int n = Syscalls.read(fd, buf);
    if (n == 0) {
      return Optional.empty();
    }
    buf.flip();
    return Optional.of(CachefilesMessage.parse(buf));
  }

  /** Tells the kernel a READ is done (the range written, or not: then the reader gets EIO). */
  public static void readComplete(int anonFd, int msgId) throws SyscallException {
    Syscalls.ioctl(anonFd, IOC_READ_COMPLETE, Integer.toUnsignedLong(msgId));
  }

  /** Closes this process's copy of the device fd. */
  public void closeQuietly() {
    try {
      Syscalls.close(fd);
    } catch (SyscallException e) {
      // Already gone; nothing else to release.
    }
  }
}
