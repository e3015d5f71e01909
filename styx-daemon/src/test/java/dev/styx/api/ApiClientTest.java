package dev.styx.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon API client over a real Unix socket: slow answers arrive whole, hung ones time out. */
class ApiClientTest {
  @TempDir Path tmp;

  /** Reads one request (up to its blank line and body), then runs {@code answer} on the socket. */
  private interface Answer {
    void on(SocketChannel c) throws Exception;
  }

  private CompletableFuture<String> serve(ServerSocketChannel ss, Answer answer) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (SocketChannel c = ss.accept()) {
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            ByteBuffer b = ByteBuffer.allocate(4096);
            while (!req.toString(StandardCharsets.ISO_8859_1).contains("{}")) {
              if (c.read(b) < 0) {
                break;
              }
              req.write(b.array(), 0, b.position());
              b.clear();
            }
            answer.on(c);
            return req.toString(StandardCharsets.ISO_8859_1);
          } catch (Exception e) {
            throw new RuntimeException(e);
          }
        },
        r -> Thread.ofPlatform().start(r));
  }

  private ServerSocketChannel listen(Path sock) throws Exception {
    ServerSocketChannel ss = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    ss.bind(UnixDomainSocketAddress.of(sock));
    return ss;
  }

  @Test
  void aSlowAnswerInPiecesArrivesWhole() throws Exception {
    Path sock = tmp.resolve("s.sock");
    try (ServerSocketChannel ss = listen(sock)) {
      CompletableFuture<String> req =
          serve(
              ss,
              c -> {
                String body = "{\"Success\":true}";
                String all =
                    "HTTP/1.1 200 OK\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
                for (byte x : all.getBytes(StandardCharsets.US_ASCII)) {
                  c.write(ByteBuffer.wrap(new byte[] {x}));
                  Thread.sleep(2);
                }
              });
      ApiClient.Reply r = new ApiClient(sock, Duration.ofSeconds(20)).post("/status", "{}");
      assertEquals(200, r.status());
      assertEquals("{\"Success\":true}", r.text());
      assertTrue(req.get().startsWith("POST /status HTTP/1.1\r\n"), req.get());
    }
  }

  @Test
  void aHungDaemonTimesOutWithAClearError() throws Exception {
    Path sock = tmp.resolve("h.sock");
    try (ServerSocketChannel ss = listen(sock)) {
      CompletableFuture<String> req = serve(ss, c -> Thread.sleep(3_000)); // accepts, never answers
      long t0 = System.nanoTime();
      SocketTimeoutException e =
          assertThrows(
              SocketTimeoutException.class,
              () -> new ApiClient(sock, Duration.ofMillis(300)).post("/mount", "{}"));
      double s = (System.nanoTime() - t0) / 1e9;
      assertTrue(s >= 0.29 && s < 2.5, "timed out after " + s + " s");
      assertTrue(e.getMessage().contains("/mount") && e.getMessage().contains(sock.toString()));
      req.get();
    }
  }

  @Test
  void timeoutMustBePositive() {
    assertThrows(
        IllegalArgumentException.class, () -> new ApiClient(tmp.resolve("x"), Duration.ZERO));
  }
}
