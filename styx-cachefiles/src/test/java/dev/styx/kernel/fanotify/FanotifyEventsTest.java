package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The event parser against hand-laid-out UAPI bytes (struct offsets from fanotify.h). */
class FanotifyEventsTest {

  private static void event(ByteBuffer b, long mask, int fd, int pid, long[] range) {
    int len = 24 + (range == null ? 0 : 24);
    b.putInt(len).put((byte) 3).put((byte) 0).putShort((short) 24);
    b.putLong(mask).putInt(fd).putInt(pid);
    if (range != null) {
      b.put((byte) 6).put((byte) 0).putShort((short) 24).putInt(0);
      b.putLong(range[0]).putLong(range[1]);
    }
  }

  @Test
  void parsesEventsWithAndWithoutRangeRecords() {
    ByteBuffer b = ByteBuffer.allocate(256).order(ByteOrder.nativeOrder());
    event(b, FanotifyApi.FAN_PRE_ACCESS, 7, 1234, new long[] {65536, 32768});
    event(b, FanotifyApi.FAN_PRE_ACCESS, 8, 99, null);
    event(b, FanotifyApi.FAN_Q_OVERFLOW, -1, 0, null);
    b.flip();
    List<FanotifyEvent> evs = FanotifyEvents.parse(b);
    assertEquals(3, evs.size());
    assertEquals(
        new FanotifyEvent(7, 1234, FanotifyApi.FAN_PRE_ACCESS, true, 65536, 32768), evs.get(0));
    assertTrue(evs.get(0).isPreAccess());
    assertFalse(evs.get(1).hasRange());
    assertEquals(8, evs.get(1).fd());
    assertEquals(FanotifyApi.FAN_NOFD, evs.get(2).fd());
    assertFalse(evs.get(2).isPreAccess());
    assertFalse(b.hasRemaining(), "consumed");
  }

  @Test
  void skipsUnknownInfoRecords() {
    ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.nativeOrder());
    // event_len 24 + 8 (unknown type 99) + 24 (range)
    b.putInt(56).put((byte) 3).put((byte) 0).putShort((short) 24);
    b.putLong(FanotifyApi.FAN_PRE_ACCESS).putInt(5).putInt(1);
    b.put((byte) 99).put((byte) 0).putShort((short) 8).putInt(0xdead);
    b.put((byte) 6).put((byte) 0).putShort((short) 24).putInt(0).putLong(4096).putLong(4096);
    b.flip();
    FanotifyEvent e = FanotifyEvents.parse(b).getFirst();
    assertEquals(4096, e.offset());
    assertEquals(4096, e.count());
  }

  @Test
  void rejectsMalformedInput() {
    ByteBuffer truncated = ByteBuffer.allocate(10);
    assertThrows(IllegalArgumentException.class, () -> FanotifyEvents.parse(truncated));

    ByteBuffer badVersion = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
    badVersion.putInt(24).put((byte) 2).put((byte) 0).putShort((short) 24).putLong(0).putLong(0);
    badVersion.flip();
    assertThrows(IllegalArgumentException.class, () -> FanotifyEvents.parse(badVersion));

    ByteBuffer tooLong = ByteBuffer.allocate(24).order(ByteOrder.nativeOrder());
    tooLong.putInt(48).put((byte) 3).put((byte) 0).putShort((short) 24).putLong(0).putLong(0);
    tooLong.flip();
    assertThrows(IllegalArgumentException.class, () -> FanotifyEvents.parse(tooLong));

    ByteBuffer zeroRecord = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
    zeroRecord.putInt(32).put((byte) 3).put((byte) 0).putShort((short) 24).putLong(0).putLong(0);
    zeroRecord.put((byte) 6).put((byte) 0).putShort((short) 0).putInt(0);
    zeroRecord.flip();
    assertThrows(IllegalArgumentException.class, () -> FanotifyEvents.parse(zeroRecord));
  }

  @Test
  void denyWithErrnoMatchesTheUapiMacro() {
    // FAN_DENY_ERRNO(EIO) = FAN_DENY | (EIO & 0xff) << 24
    assertEquals(0x05000002, FanotifyApi.denyWithErrno(FanotifyApi.EIO));
  }
}
