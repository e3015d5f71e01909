package dev.styx.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A minimal HTTP/1.1 client for the daemon's Unix socket (the JDK HttpClient speaks TCP only): one
 * request per connection, {@code Connection: close}, body read to EOF.
 */
public final class ApiClient {
  private final Path socket;

  public ApiClient(Path socket) {
    this.socket = socket;
  }

  /** A response: HTTP status and body. */
  public record Reply(int status, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** POSTs {@code json} to {@code path} and returns the reply. */
  public Reply post(String path, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    String head =
        "POST "
            + path
            + " HTTP/1.1\r\nHost: styx\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    SocketChannel ch;
    try {
      ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      throw new IOException(
          "cannot reach the styx daemon at " + socket + " (" + e.getMessage() + "); is it running?",
          e);
    }
    try (ch) {
      ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
      ch.write(ByteBuffer.wrap(body));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Channels.newInputStream(ch).transferTo(out);
      return parse(out.toByteArray());
    }
  }

  static Reply parse(byte[] raw) throws IOException {
    int end = -1;
    for (int i = 0; i + 3 < raw.length; i++) {
      if (raw[i] == '\r' && raw[i + 1] == '\n' && raw[i + 2] == '\r' && raw[i + 3] == '\n') {
        end = i;
        break;
      }
    }
    if (end < 0) {
      throw new IOException("malformed reply from the daemon (no HTTP header end)");
    }
    String head = new String(raw, 0, end, StandardCharsets.ISO_8859_1);
    String[] status = head.split("\r\n", 2)[0].split(" ");
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      throw new IOException("malformed reply from the daemon: " + head.split("\r\n", 2)[0]);
    }
    int code = Integer.parseInt(status[1]);
    byte[] body = java.util.Arrays.copyOfRange(raw, end + 4, raw.length);
    return new Reply(code, body);
  }
}
