package dev.styx.kernel.fanotify;

/**
 * One fanotify event as read from the group fd: the fd the kernel opened on the marked file for
 * this event (also the key the response must name), the pid that caused it, its mask, and the byte
 * range of a pre-content access ({@code hasRange} false when the event carried no range record).
 */
public record FanotifyEvent(int fd, int pid, long mask, boolean hasRange, long offset, long count) {

  /** Whether this is a permission event the group must answer. */
  public boolean isPreAccess() {
    return (mask & FanotifyApi.FAN_PRE_ACCESS) != 0;
  }
}
