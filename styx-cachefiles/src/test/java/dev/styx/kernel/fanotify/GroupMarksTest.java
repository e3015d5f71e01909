package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.styx.kernel.FileId;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Parsing fanotify fdinfo marks (the real-kernel check is in the restart test). */
class GroupMarksTest {
  @Test
  void parsesInodeMarksAndConvertsTheDeviceEncoding() {
    String fdinfo =
        "pos:\t0\nflags:\t02004002\nmnt_id:\t15\nino:\t1057\n"
            + "fanotify flags:18 event-flags:8002\n"
            + "fanotify ino:2284c sdev:fe00000 mflags:0 mask:100000 ignored_mask:0"
            + " fhandle-bytes:8 fhandle-type:1 f_handle:4c28020000000000\n"
            + "fanotify ino:10 sdev:800012 mflags:0 mask:100000 ignored_mask:0\n";
    // 254:0 -> 0xfe00 (65024), 8:18 -> 0x812
    assertEquals(
        Set.of(new FileId(65024, 0x2284c), new FileId(0x812, 0x10)), GroupMarks.parse(fdinfo));
    // major 0x56, minor 0x12378: low minor byte, major, high minor bits above
    assertEquals(0x1230_5678L, GroupMarks.userDev((0x56L << 20) | 0x12378));
    assertThrows(
        IllegalArgumentException.class, () -> GroupMarks.parse("fanotify ino:zz sdev:1\n"));
  }
}
