package dev.styx.kernel.cachefiles;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Message layouts of include/uapi/linux/cachefiles.h, built byte by byte at the spec offsets. */
class CachefilesMessageTest {

  private static ByteBuffer header(int len, int msgId, int opcode, int objectId) {
    ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, msgId).putInt(4, opcode).putInt(8, len).putInt(12, objectId);
    return b;
  }

  private static ByteBuffer open(String volume, byte[] cookie, int fd) {
    byte[] vol = (volume + "\0").getBytes(StandardCharsets.UTF_8);
    int len = 16 + 16 + vol.length + cookie.length;
    ByteBuffer b = header(len, 7, 0, 3);
    b.putInt(16, vol.length).putInt(20, cookie.length).putInt(24, fd).putInt(28, 0);
    b.put(32, vol).put(32 + vol.length, cookie);
    return b;
  }

  @Test
  void parsesOpen() {
    byte[] cookie = "styx-slab-0".getBytes(StandardCharsets.US_ASCII);
    var m = (CachefilesMessage.Open) CachefilesMessage.parse(open("erofs,styx", cookie, 42));
    assertEquals(7, m.msgId());
    assertEquals(3, m.objectId());
    assertEquals("erofs,styx", m.volumeKey());
    assertEquals("styx-slab-0", m.cookie());
    assertArrayEquals(cookie, m.cookieKey());
    assertEquals(42, m.fd());
  }

  @Test
  void parsesReadWithUnsignedIdsAndLargeOffsets() {
    ByteBuffer b = header(32, 0xFFFF_FFFE, 2, 9);
    b.putLong(16, 1L << 39).putLong(24, 65536);
    var m = (CachefilesMessage.Read) CachefilesMessage.parse(b);
    assertEquals(0xFFFF_FFFE, m.msgId());
    assertEquals(1L << 39, m.offset());
    assertEquals(65536, m.length());
  }

  @Test
  void parsesClose() {
    assertEquals(new CachefilesMessage.Close(5, 11), CachefilesMessage.parse(header(16, 5, 1, 11)));
  }

  @Test
  void rejectsMalformedMessages() {
    // len field disagrees with what read(2) returned
    ByteBuffer b = header(32, 1, 2, 1);
    b.putInt(8, 40);
    assertThrows(IllegalArgumentException.class, () -> CachefilesMessage.parse(b));
    // truncated header
    assertThrows(
        IllegalArgumentException.class, () -> CachefilesMessage.parse(ByteBuffer.allocate(10)));
    // READ of the wrong size
    assertThrows(
        IllegalArgumentException.class, () -> CachefilesMessage.parse(header(24, 1, 2, 1)));
    // unknown opcode
    assertThrows(
        IllegalArgumentException.class, () -> CachefilesMessage.parse(header(16, 1, 9, 1)));
    // key sizes overrunning the message
    ByteBuffer o = open("erofs,styx", new byte[] {'a'}, 3);
    o.putInt(20, 50);
    assertThrows(IllegalArgumentException.class, () -> CachefilesMessage.parse(o));
    // volume key without its NUL
    ByteBuffer n = open("erofs,styx", new byte[] {'a'}, 3);
    n.put(32 + 10, (byte) 'x');
    assertThrows(IllegalArgumentException.class, () -> CachefilesMessage.parse(n));
    // negative READ range
    ByteBuffer r = header(32, 1, 2, 1);
    r.putLong(16, -4096);
    assertThrows(IllegalArgumentException.class, () -> CachefilesMessage.parse(r));
  }

  @Test
  void slabCookiesAreRecognisedStrictly() {
    assertEquals(0, CachefilesBackend.slabIdOf("styx-slab-0").getAsInt());
    assertEquals(17, CachefilesBackend.slabIdOf("styx-slab-17").getAsInt());
    for (String bad :
        new String[] {
          "styx-slab-",
          "styx-slab-01",
          "styx-slab--1",
          "styx-slab-1x",
          "slab-1",
          "styx-slab-99999999999"
        }) {
      assertEquals(
          java.util.OptionalInt.empty(), CachefilesBackend.slabIdOf(bad), "accepted " + bad);
    }
  }
}
