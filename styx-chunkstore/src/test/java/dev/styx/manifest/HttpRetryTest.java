package dev.styx.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpRetry#sendUntil} over real loopback HTTP; the server answers 503 on purpose (a fault
 * the real manifester produces only when overloaded), which the corpus tests cannot provoke.
 */
class HttpRetryTest {
  /** A server that answers the first {@code failures} requests with {@code status}, then 200. */
  private static HttpServer server(int failures, int status, AtomicInteger seen) throws Exception {
    HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    s.createContext(
        "/",
        ex -> {
          int n = seen.incrementAndGet();
          byte[] body = (n <= failures ? "{\"error\":\"busy " + n + "\"}" : "ok").getBytes();
          ex.sendResponseHeaders(n <= failures ? status : 200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    s.start();
    return s;
  }

  private static HttpResponse<byte[]> send(URI u, Instant deadline, List<String> retries)
      throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return HttpRetry.sendUntil(
          http,
          left -> HttpRequest.newBuilder(u).timeout(left).GET().build(),
          deadline,
          (attempt, why) -> retries.add(attempt + ": " + why));
    }
  }

  @Test
  void retries503UntilAnAnswerAndPassesOtherStatusesThrough() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    HttpServer s = server(2, 503, seen);
    try {
      URI u = URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/m");
      List<String> retries = new ArrayList<>();
      HttpResponse<byte[]> r = send(u, Instant.now().plusSeconds(30), retries);
      assertEquals(200, r.statusCode());
      assertEquals(3, seen.get());
      assertEquals(2, retries.size(), retries.toString());
      assertTrue(retries.getFirst().contains("busy 1"), retries.toString());
    } finally {
      s.stop(0);
    }
    AtomicInteger seen404 = new AtomicInteger();
    HttpServer notFound = server(5, 404, seen404);
    try {
      URI u = URI.create("http://127.0.0.1:" + notFound.getAddress().getPort() + "/m");
      List<String> retries = new ArrayList<>();
      assertEquals(404, send(u, Instant.now().plusSeconds(30), retries).statusCode());
      assertEquals(1, seen404.get(), "a 404 is final");
      assertTrue(retries.isEmpty());
    } finally {
      notFound.stop(0);
    }
  }

  @Test
  void givesUpAtTheDeadlineAndSaysWhy() throws Exception {
    AtomicInteger seen = new AtomicInteger();
    HttpServer s = server(Integer.MAX_VALUE, 503, seen);
    try {
      URI u = URI.create("http://127.0.0.1:" + s.getAddress().getPort() + "/m");
      long t0 = System.nanoTime();
      var e =
          assertThrows(
              ManifestRequestException.class,
              () -> send(u, Instant.now().plus(Duration.ofMillis(1500)), new ArrayList<>()));
      double secs = (System.nanoTime() - t0) / 1e9;
      assertTrue(secs >= 1.3 && secs < 4, "gave up after " + secs + " s");
      assertTrue(e.getMessage().contains("HTTP 503: busy"), e.getMessage());
      assertTrue(
          e.getMessage().contains("(gave up at the deadline after " + seen.get() + " attempts)"),
          e.getMessage());
      assertTrue(seen.get() >= 3, seen.get() + " attempts");
    } finally {
      s.stop(0);
    }
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    var down =
        assertThrows(
            ManifestRequestException.class,
            () ->
                send(
                    URI.create("http://127.0.0.1:" + port + "/m"),
                    Instant.now().plusMillis(800),
                    new ArrayList<>()));
    assertTrue(down.getMessage().contains("cannot connect"), down.getMessage());
  }
}
