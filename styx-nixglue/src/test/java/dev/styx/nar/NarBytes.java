package dev.styx.nar;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Hand-assembles NAR byte sequences for hostile-input tests: a String or byte[] is a NAR string
 * (length, bytes, zero padding), a {@link Raw} is written as-is (for forged lengths/padding).
 */
final class NarBytes {
  private NarBytes() {}

  /** Bytes written verbatim. */
  record Raw(byte[] bytes) {}

  static Raw u64(long v) {
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return new Raw(b);
  }

  static Raw raw(byte... b) {
    return new Raw(b);
  }

  static byte[] of(Object... parts) {
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    for (Object p : parts) {
      byte[] s;
      if (p instanceof Raw r) {
        o.writeBytes(r.bytes());
        continue;
      } else if (p instanceof String str) {
        s = str.getBytes(StandardCharsets.UTF_8);
      } else if (p instanceof byte[] b) {
        s = b;
      } else {
        throw new IllegalArgumentException(String.valueOf(p));
      }
      o.writeBytes(u64(s.length).bytes());
      o.writeBytes(s);
      o.writeBytes(new byte[(8 - s.length % 8) % 8]);
    }
    return o.toByteArray();
  }

  /** A directory NAR with the given (already encoded) entry nodes. */
  static Object[] dirWith(Object[]... entries) {
    java.util.List<Object> l = new java.util.ArrayList<>();
    l.addAll(java.util.List.of("nix-archive-1", "(", "type", "directory"));
    for (Object[] e : entries) {
      l.addAll(java.util.List.of(e));
    }
    l.add(")");
    return l.toArray();
  }

  /** An entry holding a small regular file. */
  static Object[] fileEntry(Object name, String contents) {
    return new Object[] {
      "entry", "(", "name", name, "node", "(", "type", "regular", "contents", contents, ")", ")"
    };
  }
}
