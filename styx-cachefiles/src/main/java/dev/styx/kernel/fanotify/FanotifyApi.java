package dev.styx.kernel.fanotify;

/** Constants of the fanotify UAPI ({@code include/uapi/linux/fanotify.h}, Linux 6.14+). */
public final class FanotifyApi {
  private FanotifyApi() {}

  // fanotify_init(2) flags
  public static final int FAN_CLOEXEC = 0x1;
  public static final int FAN_NONBLOCK = 0x2;
  public static final int FAN_CLASS_PRE_CONTENT = 0x8;

  /**
   * Without it a full queue drops new events, and a dropped permission event is answered ALLOW by
   * the kernel: the reader would get zeros. Needs CAP_SYS_ADMIN, which mounting needs anyway.
   */
  public static final int FAN_UNLIMITED_QUEUE = 0x10;

  // fanotify_mark(2) flags
  public static final int FAN_MARK_ADD = 0x1;
  public static final int FAN_MARK_REMOVE = 0x2;

  // event mask bits
  public static final long FAN_Q_OVERFLOW = 0x4000L;

  /**
   * Pre-content access: raised before a read (or write, or page fault) of a marked file's range.
   */
  public static final long FAN_PRE_ACCESS = 0x00100000L;

  /** {@code fanotify_event_metadata.vers} this code parses. */
  public static final int FANOTIFY_METADATA_VERSION = 3;

  /** {@code fanotify_event_metadata.fd} of an event without a file (queue overflow). */
  public static final int FAN_NOFD = -1;

  /** {@code fanotify_event_info_header.info_type} of the range record. */
  public static final int FAN_EVENT_INFO_TYPE_RANGE = 6;

  // fanotify_response.response
  public static final int FAN_ALLOW = 0x1;
  public static final int FAN_DENY = 0x2;

  /** {@code FAN_DENY_ERRNO(err)}: deny with a chosen errno (pre-content groups, 6.14+). */
  public static int denyWithErrno(int errno) {
    return FAN_DENY | ((errno & 0xff) << 24);
  }

  /** errno EIO, what a reader should see when data cannot be fetched. */
  public static final int EIO = 5;

  // struct fanotify_event_metadata (24 bytes)
  static final int METADATA_LEN = 24;
  // struct fanotify_response {__s32 fd; __u32 response;} (8 bytes)
  static final int RESPONSE_LEN = 8;
}
