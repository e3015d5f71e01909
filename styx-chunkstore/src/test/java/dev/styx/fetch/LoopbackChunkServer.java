package dev.styx.fetch;

import com.github.luben.zstd.Zstd;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.styx.chunk.ChunkDigest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP chunk tree on 127.0.0.1 (JDK server) with counters, and switches for the faults a
 * real server cannot be asked to produce: 503 answers, flipped bytes, a missing batch route.
 */
final class LoopbackChunkServer implements AutoCloseable {
  final Map<ChunkDigest, byte[]> chunks = new ConcurrentHashMap<>();
  final Map<ChunkDigest, LongAdder> served = new ConcurrentHashMap<>();
  final LongAdder requests = new LongAdder();
  final AtomicInteger failNext503 = new AtomicInteger();
  volatile boolean flip;
  volatile boolean batch = true;
  private final HttpServer server;

  LoopbackChunkServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", this::handle);
    server.start();
  }

  URI base() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
  }

  ChunkDigest add(byte[] data) {
    ChunkDigest d = ChunkDigest.of(data);
    chunks.put(d, data);
    return d;
  }

  long servedCount(ChunkDigest d) {
    LongAdder a = served.get(d);
    return a == null ? 0 : a.sum();
  }

  private void handle(HttpExchange ex) throws IOException {
    requests.increment();
    try (ex) {
      String reqBody = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      if (failNext503.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        ex.sendResponseHeaders(503, -1);
        return;
      }
      String path = ex.getRequestURI().getPath();
      if (path.startsWith("/chunk/") && ex.getRequestMethod().equals("GET")) {
        ChunkDigest d = ChunkDigest.parseHex(path.substring(7));
        byte[] data = chunks.get(d);
        if (data == null) {
          ex.sendResponseHeaders(404, -1);
          return;
        }
        served.computeIfAbsent(d, k -> new LongAdder()).increment();
        send(ex, Zstd.compress(maybeFlip(data), 3), null);
        return;
      }
      if (path.equals("/chunks") && batch && ex.getRequestMethod().equals("POST")) {
        // Parsed loosely: this is a test double of the real server's batch route.
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        StringBuilder lengths = new StringBuilder();
        Matcher m = Pattern.compile("[0-9a-f]{64}").matcher(reqBody);
        while (m.find()) {
          ChunkDigest d = ChunkDigest.parseHex(m.group());
          byte[] data = chunks.get(d);
          if (data == null) {
            ex.sendResponseHeaders(404, -1);
            return;
          }
          served.computeIfAbsent(d, k -> new LongAdder()).increment();
          all.write(maybeFlip(data));
          lengths.append(lengths.isEmpty() ? "" : ",").append(data.length);
        }
        send(ex, Zstd.compress(all.toByteArray(), 3), lengths.toString());
        return;
      }
      byte[] msg = "{\"error\":\"no route\",\"code\":\"no-route\"}".getBytes();
      ex.sendResponseHeaders(404, msg.length);
      ex.getResponseBody().write(msg);
    }
  }

  private byte[] maybeFlip(byte[] data) {
    byte[] d = data.clone();
    if (flip) {
      d[d.length / 2] ^= 0x10;
    }
    return d;
  }

  private static void send(HttpExchange ex, byte[] body, String lengths) throws IOException {
    if (lengths != null) {
      ex.getResponseHeaders().set("X-Styx-Lengths", lengths);
    }
    ex.sendResponseHeaders(200, body.length);
    ex.getResponseBody().write(body);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
