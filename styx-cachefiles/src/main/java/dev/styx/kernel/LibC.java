package dev.styx.kernel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.annotations.Pinned;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/** The raw libc entry points Styx needs, bound by jnr-ffi; use {@link Syscalls}, not this. */
public interface LibC {
  @SaveError
  int mount(String source, String target, String fstype, long flags, String data);

  @SaveError
  int umount2(String target, int flags);

  @SaveError
  int open(String path, int flags, int mode);

  @SaveError
  int linkat(int oldDirFd, String oldPath, int newDirFd, String newPath, int flags);

  @SaveError
  int close(int fd);

  @SaveError
  @ssize_t
  long pwrite(int fd, @In Pointer buf, @size_t long count, @off_t long offset);

  @SaveError
  @ssize_t
  long pread(int fd, @Out Pointer buf, @size_t long count, @off_t long offset);

  @SaveError
  @ssize_t
  long read(int fd, @Out Pointer buf, @size_t long count);

  @SaveError
  @ssize_t
  long write(int fd, @In Pointer buf, @size_t long count);

  @SaveError
  int fallocate(int fd, int mode, @off_t long offset, @off_t long len);

  @SaveError
  int ioctl(int fd, long request, long arg);

  @SaveError
  @ssize_t
  long copy_file_range(
      int fdIn, Pointer offIn, int fdOut, Pointer offOut, @size_t long len, int flags);

  @SaveError
  int fanotify_init(int flags, int eventFFlags);

  @SaveError
  int fanotify_mark(int fanotifyFd, int flags, long mask, int dirfd, String pathname);

  @SaveError
  int dup(int fd);

  @SaveError
  int fsync(int fd);

  @SaveError
  int fdatasync(int fd);

  @SaveError
  int fstat(int fd, @Out Pointer statbuf);

  @SaveError
  int ftruncate(int fd, @off_t long length);

  @SaveError
  @ssize_t
  long write(int fd, @In int[] buf, @size_t long count);

  int posix_fadvise(int fd, @off_t long offset, @off_t long len, int advice);

  /** write(2) straight from a Java array (pinned for the call, not copied). */
  @SaveError
  @ssize_t
  long write(int fd, @Pinned @In byte[] buf, @size_t long count);

  @SaveError
  int sync_file_range(int fd, @off_t long offset, @off_t long nbytes, int flags);

  @SaveError
  int poll(Pointer fds, long nfds, int timeoutMs);

  @SaveError
  int dup3(int oldFd, int newFd, int flags);

  @SaveError
  int fcntl(int fd, int cmd, int arg);

  int getpid();

  @SaveError
  int socket(int domain, int type, int protocol);

  @SaveError
  int bind(int fd, @In Pointer addr, int addrLen);

  @SaveError
  int listen(int fd, int backlog);

  @SaveError
  int accept4(int fd, Pointer addr, Pointer addrLen, int flags);

  @SaveError
  int connect(int fd, @In Pointer addr, int addrLen);

  @SaveError
  @ssize_t
  long sendmsg(int fd, @In Pointer msg, int flags);

  @SaveError
  @ssize_t
  long recvmsg(int fd, Pointer msg, int flags);

  String strerror(int errnum);
}
