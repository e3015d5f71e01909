package dev.styx.kernel;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The typed facade over {@link LibC}: every call checks its result and throws {@link
 * SyscallException} naming the call, its arguments and errno. Callers never see raw return codes.
 */
public final class Syscalls {
  // mount(2) flags, <linux/mount.h>
  public static final long MS_RDONLY = 1;
  public static final long MS_NOSUID = 2;
  public static final long MS_NODEV = 4;
  public static final long MS_BIND = 4096;
  // umount2(2) flags
  public static final int MNT_FORCE = 1;
  public static final int MNT_DETACH = 2;
  // open(2) flags, x86-64
  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;

  /** O_TMPFILE: {@code __O_TMPFILE | O_DIRECTORY}, an unnamed file in the given directory. */
  public static final int O_TMPFILE = 020200000;

  public static final int O_CLOEXEC = 02000000;
  public static final int O_LARGEFILE = 0100000;
  public static final int O_DIRECT = 040000;
  // *at(2) directory fd meaning "the current directory"
  public static final int AT_FDCWD = -100;
  // linkat(2) flags
  public static final int AT_SYMLINK_FOLLOW = 0x400;
  public static final int AT_EMPTY_PATH = 0x1000;
  // errno values callers branch on (asm-generic/errno-base.h, errno.h)
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int EOPNOTSUPP = 95;
  public static final int EDQUOT = 122;
  // fcntl(2) commands
  static final int F_GETFD = 1;
  static final int F_GETFL = 3;
  static final int F_SETFL = 4;
  static final int F_SETFD = 2;
  static final int FD_CLOEXEC = 1;
  // posix_fadvise(2) advice
  public static final int POSIX_FADV_RANDOM = 1;
  public static final int POSIX_FADV_DONTNEED = 4;
  // sync_file_range(2) flags
  public static final int SYNC_FILE_RANGE_WRITE = 2;
  // poll(2) events
  public static final int POLLIN = 1;
  // fallocate(2) modes
  public static final int FALLOC_FL_KEEP_SIZE = 1;
  public static final int FALLOC_FL_PUNCH_HOLE = 2;

  private static final LibC LIBC = LibraryLoader.create(LibC.class).load("c");
  private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

  /**
   * Per-thread scratch for small out-structs (struct stat, struct pollfd) on hot paths: meant for
   * platform threads such as an event loop; a virtual thread gets its own, as with any allocation.
   */
  private static final ThreadLocal<Pointer> SCRATCH =
      ThreadLocal.withInitial(() -> Memory.allocateDirect(RUNTIME, 256));

  private Syscalls() {}

  /** The bound libc, for backends that need a call this facade does not wrap yet. */
  static LibC libc() {
    return LIBC;
  }

  static Runtime runtime() {
    return RUNTIME;
  }

  static int errno() {
    return RUNTIME.getLastError();
  }

  static SyscallException error(String call) {
    int e = errno();
    return new SyscallException(call, e, LIBC.strerror(e));
  }

  /** mount(2); {@code data} may be null. */
  public static void mount(String source, Path target, String fstype, long flags, String data)
      throws SyscallException {
    if (LIBC.mount(source, target.toString(), fstype, flags, data) != 0) {
      throw error(
          "mount("
              + source
              + ", "
              + target
              + ", "
              + fstype
              + ", 0x"
              + Long.toHexString(flags)
              + ", "
              + data
              + ")");
    }
  }

  /** umount2(2). */
  public static void umount(Path target, int flags) throws SyscallException {
    if (LIBC.umount2(target.toString(), flags) != 0) {
      throw error("umount2(" + target + ", " + flags + ")");
    }
  }

  /** open(2); returns the fd. */
  public static int open(Path path, int flags, int mode) throws SyscallException {
    int fd = LIBC.open(path.toString(), flags, mode);
    if (fd < 0) {
      throw error("open(" + path + ", 0" + Integer.toOctalString(flags) + ")");
    }
    return fd;
  }

  /**
   * Gives the unnamed file open as {@code fd} (from {@link #O_TMPFILE}) the name {@code dest},
   * which must not exist (EEXIST otherwise). {@code AT_EMPTY_PATH} needs CAP_DAC_READ_SEARCH;
   * without it the kernel answers ENOENT and the file is linked through {@code /proc/self/fd}
   * instead.
   */
  public static void linkTmpFile(int fd, Path dest) throws SyscallException {
    if (LIBC.linkat(fd, "", AT_FDCWD, dest.toString(), AT_EMPTY_PATH) == 0) {
      return;
    }
    if (errno() == ENOENT
        && LIBC.linkat(
                AT_FDCWD, "/proc/self/fd/" + fd, AT_FDCWD, dest.toString(), AT_SYMLINK_FOLLOW)
            == 0) {
      return;
    }
    throw error("linkat(" + fd + ", " + dest + ")");
  }

  /** close(2). */
  public static void close(int fd) throws SyscallException {
    if (LIBC.close(fd) != 0) {
      throw error("close(" + fd + ")");
    }
  }

  /** dup(2). */
  public static int dup(int fd) throws SyscallException {
    int r = LIBC.dup(fd);
    if (r < 0) {
      throw error("dup(" + fd + ")");
    }
    return r;
  }

  /** pwrite(2) of the buffer's remaining bytes, looping over short writes. */
  public static void pwriteFully(int fd, ByteBuffer buf, long offset) throws SyscallException {
    ByteBuffer b = buf.duplicate();
    Pointer p = pointerTo(b);
    long done = 0;
    long len = b.remaining();
    while (done < len) {
      long n = LIBC.pwrite(fd, p.slice(done), len - done, offset + done);
      if (n < 0) {
        throw error("pwrite(" + fd + ", " + (len - done) + " bytes @" + (offset + done) + ")");
      }
      done += n;
    }
  }

  /** pread(2) into the buffer's remaining space; returns bytes read (0 at EOF). */
  public static int pread(int fd, ByteBuffer buf, long offset) throws SyscallException {
    Pointer p = pointerTo(buf);
    long n = LIBC.pread(fd, p, buf.remaining(), offset);
    if (n < 0) {
      throw error("pread(" + fd + ", " + buf.remaining() + " bytes @" + offset + ")");
    }
    buf.position(buf.position() + (int) n);
    return (int) n;
  }

  /** read(2); returns bytes read (0 at EOF). */
  public static int read(int fd, ByteBuffer buf) throws SyscallException {
    Pointer p = pointerTo(buf);
    long n = LIBC.read(fd, p, buf.remaining());
    if (n < 0) {
      throw error("read(" + fd + ")");
    }
    buf.position(buf.position() + (int) n);
    return (int) n;
  }

  /** write(2) of all remaining bytes. */
  public static void writeFully(int fd, ByteBuffer buf) throws SyscallException {
    Pointer p = pointerTo(buf);
    long done = 0;
    long len = buf.remaining();
    while (done < len) {
      long n = LIBC.write(fd, p.slice(done), len - done);
      if (n < 0) {
        throw error("write(" + fd + ")");
      }
      done += n;
    }
    buf.position(buf.position() + (int) len);
  }

  /**
   * write(2) of {@code buf[off, off+len)} straight from the array: it is pinned for each call, so
   * no copy into native memory is made. For short writes to files (page cache), not for pipes or
   * sockets that may block for long while the array is pinned.
   */
  public static void writeFully(int fd, byte[] buf, int off, int len) throws SyscallException {
    java.util.Objects.checkFromIndexSize(off, len, buf.length);
    byte[] b = buf;
    int from = off;
    int left = len;
    while (left > 0) {
      if (from != 0) {
        b = java.util.Arrays.copyOfRange(b, from, from + left); // rare: offset or short write
        from = 0;
      }
      long n = LIBC.write(fd, b, left);
      if (n < 0) {
        throw error("write(" + fd + ", " + left + " bytes)");
      }
      from += (int) n;
      left -= (int) n;
    }
  }

  /** fallocate(2). */
  public static void fallocate(int fd, int mode, long offset, long len) throws SyscallException {
    if (LIBC.fallocate(fd, mode, offset, len) != 0) {
      throw error("fallocate(" + fd + ", " + mode + ", " + offset + ", " + len + ")");
    }
  }

  /** ioctl(2) with an integer argument; returns the result. */
  public static int ioctl(int fd, long request, long arg) throws SyscallException {
    int r = LIBC.ioctl(fd, request, arg);
    if (r < 0) {
      throw error("ioctl(" + fd + ", 0x" + Long.toHexString(request) + ")");
    }
    return r;
  }

  /** fsync(2). */
  public static void fsync(int fd) throws SyscallException {
    if (LIBC.fsync(fd) != 0) {
      throw error("fsync(" + fd + ")");
    }
  }

  /** fdatasync(2): data (and the size, if it changed) durable before presence is recorded. */
  public static void fdatasync(int fd) throws SyscallException {
    if (LIBC.fdatasync(fd) != 0) {
      throw error("fdatasync(" + fd + ")");
    }
  }

  /**
   * Bytes actually allocated on disk for an open file (fstat(2) {@code st_blocks * 512}; x86-64
   * {@code struct stat} layout: st_blocks at offset 64, 144 bytes in all). Sparse holes count 0.
   */
  public static long allocatedBytes(int fd) throws SyscallException {
    Pointer st = allocate(144);
    if (LIBC.fstat(fd, st) != 0) {
      throw error("fstat(" + fd + ")");
    }
    return st.getLong(64) * 512L;
  }

  /** ftruncate(2); used to give slab files their sparse virtual size. */
  public static void ftruncate(int fd, long length) throws SyscallException {
    if (LIBC.ftruncate(fd, length) != 0) {
      throw error("ftruncate(" + fd + ", " + length + ")");
    }
  }

  /**
   * copy_file_range(2) of {@code len} bytes between explicit offsets, looping over short copies;
   * returns the bytes copied (less than {@code len} only at the source's EOF).
   */
  public static long copyFileRange(int fdIn, long offIn, int fdOut, long offOut, long len)
      throws SyscallException {
    Pointer in = allocate(8);
    Pointer out = allocate(8);
    in.putLong(0, offIn);
    out.putLong(0, offOut);
    long done = 0;
    while (done < len) {
      long n = LIBC.copy_file_range(fdIn, in, fdOut, out, len - done, 0);
      if (n < 0) {
        throw error("copy_file_range(" + fdIn + "@" + (offIn + done) + " -> " + fdOut + ")");
      }
      if (n == 0) {
        break;
      }
      done += n;
    }
    return done;
  }

  /** fanotify_init(2); returns the notification group fd. */
  public static int fanotifyInit(int flags, int eventFFlags) throws SyscallException {
    int fd = LIBC.fanotify_init(flags, eventFFlags);
    if (fd < 0) {
      throw error(
          "fanotify_init(0x"
              + Integer.toHexString(flags)
              + ", 0"
              + Integer.toOctalString(eventFFlags)
              + ")");
    }
    return fd;
  }

  /** fanotify_mark(2) on {@code path} (relative paths against the cwd). */
  public static void fanotifyMark(int fanFd, int flags, long mask, Path path)
      throws SyscallException {
    if (LIBC.fanotify_mark(fanFd, flags, mask, AT_FDCWD, path.toString()) != 0) {
      throw error(
          "fanotify_mark("
              + fanFd
              + ", 0x"
              + Integer.toHexString(flags)
              + ", 0x"
              + Long.toHexString(mask)
              + ", "
              + path
              + ")");
    }
  }

  /**
   * poll(2) on one fd; returns its {@code revents} (0 on timeout, also when interrupted by a
   * signal).
   */
  public static int poll(int fd, int events, int timeoutMs) throws SyscallException {
    Pointer p = SCRATCH.get(); // struct pollfd {int fd; short events; short revents;}
    p.putInt(0, fd);
    p.putShort(4, (short) events);
    p.putShort(6, (short) 0);
    int r = LIBC.poll(p, 1, timeoutMs);
    if (r < 0) {
      if (errno() == EINTR) {
        return 0;
      }
      throw error("poll(" + fd + ")");
    }
    return r == 0 ? 0 : p.getShort(6) & 0xffff;
  }

  /**
   * write(2) of two native ints as one 8-byte record, e.g. {@code struct fanotify_response {s32 fd;
   * u32 response;}}; no buffer to allocate on the hot path.
   */
  public static void writeIntPair(int fd, int first, int second) throws SyscallException {
    long n = LIBC.write(fd, new int[] {first, second}, 8);
    if (n != 8) {
      throw error("write(" + fd + ", 8 bytes)");
    }
  }

  /** sync_file_range(2) over the whole file with {@code flags}. */
  public static void syncFileRange(int fd, int flags) throws SyscallException {
    if (LIBC.sync_file_range(fd, 0, 0, flags) != 0) {
      throw error("sync_file_range(" + fd + ", " + flags + ")");
    }
  }

  /** posix_fadvise(2) over the whole file, e.g. {@link #POSIX_FADV_RANDOM} to stop readahead. */
  public static void fadvise(int fd, int advice) throws SyscallException {
    int r = LIBC.posix_fadvise(fd, 0, 0, advice);
    if (r != 0) {
      throw new SyscallException("posix_fadvise(" + fd + ", " + advice + ")", r, LIBC.strerror(r));
    }
  }

  /** dup3(2): makes {@code newFd} a copy of {@code oldFd}. */
  public static void dup3(int oldFd, int newFd, int flags) throws SyscallException {
    if (LIBC.dup3(oldFd, newFd, flags) < 0) {
      throw error("dup3(" + oldFd + ", " + newFd + ")");
    }
  }

  /** Sets close-on-exec on {@code fd} (fds inherited from systemd arrive without it). */
  public static void setCloexec(int fd) throws SyscallException {
    int flags = LIBC.fcntl(fd, F_GETFD, 0);
    if (flags < 0 || LIBC.fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
      throw error("fcntl(" + fd + ", F_SETFD, FD_CLOEXEC)");
    }
  }

  /** The file status flags of {@code fd} (fcntl F_GETFL: access mode, O_DIRECT, O_APPEND...). */
  public static int statusFlags(int fd) throws SyscallException {
    int flags = LIBC.fcntl(fd, F_GETFL, 0);
    if (flags < 0) {
      throw error("fcntl(" + fd + ", F_GETFL)");
    }
    return flags;
  }

  /**
   * Adds {@code flag} (e.g. {@link #O_DIRECT}) to the status flags of {@code fd}'s open file
   * description; file systems that cannot do direct I/O refuse O_DIRECT with EINVAL.
   */
  public static void addStatusFlag(int fd, int flag) throws SyscallException {
    int flags = statusFlags(fd);
    if ((flags & flag) != flag && LIBC.fcntl(fd, F_SETFL, flags | flag) < 0) {
      throw error("fcntl(" + fd + ", F_SETFL, 0" + Integer.toOctalString(flag) + ")");
    }
  }

  /** Whether {@code fd} is open in this process (fcntl F_GETFD does not fail with EBADF). */
  public static boolean isOpen(int fd) {
    return LIBC.fcntl(fd, F_GETFD, 0) >= 0;
  }

  /** This process's pid as the kernel reports it (getpid(2)). */
  public static int getpid() {
    return LIBC.getpid();
  }

  /** {@code (st_dev, st_ino)} of an open file (x86-64 struct stat: offsets 0 and 8). */
  public static FileId fileId(int fd) throws SyscallException {
    Pointer st = SCRATCH.get();
    if (LIBC.fstat(fd, st) != 0) {
      throw error("fstat(" + fd + ")");
    }
    return new FileId(st.getLong(0), st.getLong(8));
  }

  /** {@code st_size} of an open file (x86-64 struct stat: offset 48). */
  public static long fileSize(int fd) throws SyscallException {
    Pointer st = allocate(144);
    if (LIBC.fstat(fd, st) != 0) {
      throw error("fstat(" + fd + ")");
    }
    return st.getLong(48);
  }

  /**
   * A native pointer to the buffer's remaining bytes. Direct buffers are used in place; heap
   * buffers are not supported, since the kernel needs a stable address (and page alignment for
   * cachefiles' direct I/O).
   */
  static Pointer pointerTo(ByteBuffer buf) {
    if (!buf.isDirect()) {
      throw new IllegalArgumentException("syscalls need a direct ByteBuffer");
    }
    return Pointer.wrap(RUNTIME, buf).slice(buf.position());
  }

  /** Allocates a page-aligned direct buffer of {@code size} bytes (for O_DIRECT-style writes). */
  public static ByteBuffer alignedBuffer(int size) {
    return ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096).limit(size).slice();
  }

  /** Memory helper for callers that need a scratch native area. */
  static Pointer allocate(int size) {
    return Memory.allocateDirect(RUNTIME, size);
  }
}
