package dev.styx.kernel.fdstore;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sd_notify(3) message format, {@code KEY=VALUE} lines, shared by systemd's notify socket and
 * the fd holder so that both speak the same protocol.
 */
public record NotifyMessage(Map<String, String> fields) {

  public NotifyMessage {
    fields = Map.copyOf(fields);
  }

  /** Parses {@code KEY=VALUE} lines; lines without '=' are rejected. */
  public static NotifyMessage parse(byte[] bytes) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("notify message line without KEY=: " + line);
      }
      m.put(line.substring(0, eq), line.substring(eq + 1));
    }
    return new NotifyMessage(m);
  }

  /** Builds a message from alternating keys and values, keeping their order. */
  public static byte[] format(String... keyValues) {
    if (keyValues.length % 2 != 0) {
      throw new IllegalArgumentException("keys and values must pair up");
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < keyValues.length; i += 2) {
      String v = keyValues[i + 1];
      if (v.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("notify value contains a newline: " + keyValues[i]);
      }
      sb.append(keyValues[i]).append('=').append(v).append('\n');
    }
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The value of {@code key}, or null. */
  public String get(String key) {
    return fields.get(key);
  }

  /** Whether {@code key} is present with value "1". */
  public boolean flag(String key) {
    return "1".equals(fields.get(key));
  }
}
