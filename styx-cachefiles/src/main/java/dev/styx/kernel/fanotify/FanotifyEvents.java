package dev.styx.kernel.fanotify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the bytes of one read(2) on a fanotify group fd into events. Pure: bytes in, records out.
 *
 * <p>Layout ({@code include/uapi/linux/fanotify.h}, native byte order): {@code struct
 * fanotify_event_metadata} is event_len u32 @0, vers u8 @4, reserved u8 @5, metadata_len u16 @6,
 * mask u64 @8, fd s32 @16, pid s32 @20; info records follow from metadata_len to event_len, each
 * starting with {@code struct fanotify_event_info_header} {info_type u8 @0, pad u8 @1, len u16 @2}.
 * The range record (type 6) is {@code {hdr; u32 pad @4; u64 offset @8; u64 count @16}}.
 */
public final class FanotifyEvents {
  private FanotifyEvents() {}

  /** Parses every event in {@code buf}'s remaining bytes (consumed). */
  public static List<FanotifyEvent> parse(ByteBuffer buf) {
    ByteBuffer b = buf.slice().order(ByteOrder.nativeOrder());
    buf.position(buf.limit());
    List<FanotifyEvent> out = new ArrayList<>();
    int pos = 0;
    while (pos < b.limit()) {
      if (b.limit() - pos < FanotifyApi.METADATA_LEN) {
        throw new IllegalArgumentException(
            "truncated fanotify event header at " + pos + " (" + (b.limit() - pos) + " bytes)");
      }
      long eventLen = Integer.toUnsignedLong(b.getInt(pos));
      int vers = b.get(pos + 4) & 0xff;
      int metadataLen = b.getShort(pos + 6) & 0xffff;
      if (vers != FanotifyApi.FANOTIFY_METADATA_VERSION) {
        throw new IllegalArgumentException("unsupported fanotify metadata version " + vers);
      }
      if (metadataLen < FanotifyApi.METADATA_LEN
          || eventLen < metadataLen
          || eventLen > b.limit() - pos) {
        throw new IllegalArgumentException(
            "bad fanotify event lengths at "
                + pos
                + ": event_len="
                + eventLen
                + " metadata_len="
                + metadataLen);
      }
      long mask = b.getLong(pos + 8);
      int fd = b.getInt(pos + 16);
      int pid = b.getInt(pos + 20);
      boolean hasRange = false;
      long offset = 0;
      long count = 0;
      int end = pos + (int) eventLen;
      int rec = pos + metadataLen;
      while (rec < end) {
        if (end - rec < 4) {
          throw new IllegalArgumentException("truncated fanotify info record at " + rec);
        }
        int type = b.get(rec) & 0xff;
        int len = b.getShort(rec + 2) & 0xffff;
        if (len < 4 || len > end - rec) {
          throw new IllegalArgumentException("bad fanotify info record length " + len);
        }
        if (type == FanotifyApi.FAN_EVENT_INFO_TYPE_RANGE) {
          if (len < 24) {
            throw new IllegalArgumentException("short fanotify range record: " + len);
          }
          hasRange = true;
          offset = b.getLong(rec + 8);
          count = b.getLong(rec + 16);
          if (offset < 0 || count < 0) {
            throw new IllegalArgumentException(
                "fanotify range out of bounds: " + offset + "+" + count);
          }
        }
        rec += len;
      }
      out.add(new FanotifyEvent(fd, pid, mask, hasRange, offset, count));
      pos = end;
    }
    return out;
  }
}
