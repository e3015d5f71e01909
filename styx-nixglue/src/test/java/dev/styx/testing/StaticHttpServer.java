package dev.styx.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain static file server on 127.0.0.1 (ephemeral port) over a directory: GET and HEAD, 404 for
 * anything missing or outside the root. {@link #failNext} injects transient 5xx answers, a fault a
 * real static server cannot be told to produce, for retry tests.
 */
public final class StaticHttpServer implements AutoCloseable {
  private final Path root;
  private final HttpServer server;
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private volatile int failStatus = 503;
  private final AtomicInteger stalls = new AtomicInteger();
  private volatile long stallAfterBytes;
  private volatile long stallMillis;

  /** Starts serving {@code root}. */
  public StaticHttpServer(Path root) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.createContext("/", this::handle);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  /** The base URL, {@code http://127.0.0.1:<port>}, without trailing slash. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The base URL as a URI. */
  public URI uri() {
    return URI.create(url() + "/");
  }

  /** Answers the next {@code n} requests with {@code status}. */
  public void failNext(int n, int status) {
    failStatus = status;
    failures.set(n);
  }

  /**
   * The next {@code n} GETs send headers and {@code afterBytes} body bytes, then go silent for
   * {@code millis} before finishing (a stalled server, for read-timeout tests).
   */
  public void stallNext(int n, long afterBytes, long millis) {
    stallAfterBytes = afterBytes;
    stallMillis = millis;
    stalls.set(n);
  }

  /** Requests served so far (including injected failures). */
  public int requestCount() {
    return requests.get();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      requests.incrementAndGet();
      if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        ex.sendResponseHeaders(failStatus, -1);
        return;
      }
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      String rel = ex.getRequestURI().getPath();
      Path f = root.resolve(rel.replaceFirst("^/+", "")).normalize();
      if (!f.startsWith(root) || !Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
        ex.sendResponseHeaders(404, -1);
        return;
      }
      long size = Files.size(f);
      if (method.equals("HEAD")) {
        ex.getResponseHeaders().set("Content-Length", Long.toString(size));
        ex.sendResponseHeaders(200, -1);
        return;
      }
      boolean stall = stalls.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
      ex.sendResponseHeaders(200, size == 0 ? -1 : size);
      try (InputStream in = Files.newInputStream(f);
          OutputStream out = ex.getResponseBody()) {
        if (stall) {
          out.write(in.readNBytes((int) Math.min(stallAfterBytes, size)));
          out.flush();
          try {
            Thread.sleep(stallMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        in.transferTo(out);
      } catch (IOException e) {
        // the client gave up (e.g. after a stall); nothing to do
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
