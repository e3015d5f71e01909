package dev.styx.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A minimal HTTP/1.1 client for the daemon's Unix socket (the JDK HttpClient speaks TCP only): one
 * request per connection, {@code Connection: close}, body read to EOF, the whole exchange bounded
 * by a timeout so a hung daemon fails its callers (Nix's substituter hook, the CLI) instead of
 * hanging them.
 */
public final class ApiClient {
  /**
   * Default bound on one request: long enough for an eager mount of a large store path over a slow
   * link, short enough that a hung daemon is reported rather than waited on forever.
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  private final Path socket;
  private final Duration timeout;

  public ApiClient(Path socket) {
    this(socket, DEFAULT_TIMEOUT);
  }

  public ApiClient(Path socket, Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    this.socket = socket;
    this.timeout = timeout;
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
    try (ch;
        Selector sel = Selector.open()) {
      long deadline = System.nanoTime() + timeout.toNanos();
      ch.configureBlocking(false);
      SelectionKey key = ch.register(sel, 0);
      ByteBuffer req = ByteBuffer.allocate(head.length() + body.length);
      req.put(head.getBytes(StandardCharsets.US_ASCII)).put(body).flip();
      while (req.hasRemaining()) {
        if (ch.write(req) == 0) {
          await(sel, key, SelectionKey.OP_WRITE, deadline, path);
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
      while (true) {
        int n = ch.read(buf);
        if (n < 0) {
          break;
        }
        if (n == 0) {
          await(sel, key, SelectionKey.OP_READ, deadline, path);
          continue;
        }
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return parse(out.toByteArray());
    }
  }

  /** Waits until {@code ops} is ready or the deadline passes (then fails, naming the request). */
  private void await(Selector sel, SelectionKey key, int ops, long deadline, String path)
      throws IOException {
    key.interestOps(ops);
    long left = deadline - System.nanoTime();
    if (left <= 0 || sel.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0) {
      if (System.nanoTime() - deadline >= 0) {
        throw new SocketTimeoutException(
            "the styx daemon at "
                + socket
                + " did not answer "
                + path
                + " within "
                + timeout.toSeconds()
                + " s (hung or overloaded? see journalctl -u styx)");
      }
    }
    sel.selectedKeys().clear();
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
