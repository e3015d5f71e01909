package dev.styx.kernel.cachefiles;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One request read from {@code /dev/cachefiles} in on-demand mode ({@code
 * include/uapi/linux/cachefiles.h}, little-endian). Header {@code struct cachefiles_msg}, 16 bytes:
 * msg_id u32 @0, opcode u32 @4 (OPEN 0, CLOSE 1, READ 2), len u32 @8 (whole message), object_id
 * u32 @12, then the payload.
 */
public sealed interface CachefilesMessage {
  /** CACHEFILES_MSG_MAX_SIZE: a read(2) buffer of this size always holds one message. */
  int MAX_SIZE = 1024;

  /** Size of {@code struct cachefiles_msg}. */
  int HEADER_SIZE = 16;

  int OP_OPEN = 0;
  int OP_CLOSE = 1;
  int OP_READ = 2;

  /** The request id, echoed in {@code copen} and READ_COMPLETE. */
  int msgId();

  /** The cache object the request is about (valid from its OPEN until its CLOSE). */
  int objectId();

  /**
   * OPEN ({@code struct cachefiles_open} @16: volume_key_size u32 @0, cookie_key_size u32 @4, fd
   * u32 @8, flags u32 @12, data @16: the volume key, NUL-terminated, then the cookie key). The
   * kernel has already installed {@code fd} (write-only) in the reading process.
   */
  record Open(int msgId, int objectId, String volumeKey, byte[] cookieKey, int fd)
      implements CachefilesMessage {
    public Open {
      cookieKey = cookieKey.clone();
    }

    @Override
    public byte[] cookieKey() {
      return cookieKey.clone();
    }

    /** The cookie key as text (EROFS keys are fsids and device tags). */
    public String cookie() {
      return new String(cookieKey, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Open x
          && x.msgId == msgId
          && x.objectId == objectId
          && x.fd == fd
          && x.volumeKey.equals(volumeKey)
          && Arrays.equals(x.cookieKey, cookieKey);
    }

    @Override
    public int hashCode() {
      return msgId * 31 + Arrays.hashCode(cookieKey);
    }

    @Override
    public String toString() {
      return "Open[msg=" + msgId + ", obj=" + objectId + ", " + volumeKey + "/" + cookie() + "]";
    }
  }

  /** READ ({@code struct cachefiles_read} @16: off u64 @0, len u64 @8). */
  record Read(int msgId, int objectId, long offset, long length) implements CachefilesMessage {}

  /** CLOSE: no payload, never answered. */
  record Close(int msgId, int objectId) implements CachefilesMessage {}

  /**
   * Parses the message in {@code buf}'s remaining bytes (exactly what one read(2) returned).
   *
   * @throws IllegalArgumentException on a truncated or inconsistent message or unknown opcode
   */
  static CachefilesMessage parse(ByteBuffer buf) {
    ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    int n = b.remaining();
    if (n < HEADER_SIZE) {
      throw new IllegalArgumentException("cachefiles message of " + n + " bytes (< header)");
    }
    int msgId = b.getInt(0);
    int opcode = b.getInt(4);
    long len = Integer.toUnsignedLong(b.getInt(8));
    int objectId = b.getInt(12);
    if (len != n) {
      throw new IllegalArgumentException("cachefiles message says len " + len + ", read " + n);
    }
    return switch (opcode) {
      case OP_OPEN -> parseOpen(b, msgId, objectId);
      case OP_READ -> {
        if (n != HEADER_SIZE + 16) {
          throw new IllegalArgumentException("READ message of " + n + " bytes (want 32)");
        }
        long off = b.getLong(16);
        long l = b.getLong(24);
        if (off < 0 || l < 0) {
          throw new IllegalArgumentException("READ range " + off + "+" + l + " out of range");
        }
        yield new Read(msgId, objectId, off, l);
      }
      case OP_CLOSE -> new Close(msgId, objectId);
      default -> throw new IllegalArgumentException("unknown cachefiles opcode " + opcode);
    };
  }

  private static Open parseOpen(ByteBuffer b, int msgId, int objectId) {
    int n = b.remaining();
    if (n < HEADER_SIZE + 16) {
      throw new IllegalArgumentException("OPEN message of " + n + " bytes (< 32)");
    }
    long volSize = Integer.toUnsignedLong(b.getInt(16));
    long cookieSize = Integer.toUnsignedLong(b.getInt(20));
    int fd = b.getInt(24);
    int data = HEADER_SIZE + 16;
    if (volSize < 1 || data + volSize + cookieSize != n) {
      throw new IllegalArgumentException(
          "OPEN key sizes " + volSize + "+" + cookieSize + " do not fill the " + n + " bytes");
    }
    if (b.get(data + (int) volSize - 1) != 0) {
      throw new IllegalArgumentException("OPEN volume key is not NUL-terminated");
    }
    byte[] vol = new byte[(int) volSize - 1];
    b.get(data, vol);
    byte[] cookie = new byte[(int) cookieSize];
    b.get(data + (int) volSize, cookie);
    return new Open(msgId, objectId, new String(vol, StandardCharsets.UTF_8), cookie, fd);
  }
}
