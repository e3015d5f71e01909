package dev.styx.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.chunk.ChunkDigest;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manifester's HTTP routes. The event loop only decodes and encodes HTTP; every request is
 * handled on a virtual thread (blocking file and upstream I/O), and each connection handles one
 * request at a time (reads pause until the response is written) so responses stay in order.
 *
 * <pre>
 * POST /manifest       {"upstream": URL, "storePath": "/nix/store/..."} -> manifest object
 * GET  /manifest/KEY   the stored manifest object (same bytes as DIR/manifest/KEY)
 * GET  /chunk/HEX      the stored chunk object (same bytes as DIR/chunk/HEX)
 * POST /chunks         {"digests": [HEX...]} -> one zstd frame of the chunks, concatenated
 * POST /chunkdiff      {"bases": [HEX...], "targets": [HEX...]} -> one zstd frame of the targets
 *                      compressed with the concatenated bases as a raw-content dictionary
 * GET  /metrics        Prometheus text
 * GET  /healthz        "ok"
 * </pre>
 *
 * Batch and diff responses carry {@code X-Styx-Lengths: n1,n2,...} (decimal byte length of each
 * target, in request order) and {@code X-Styx-Base-Length}; the body is exactly one zstd frame, so
 * {@code zstd -d --patch-from=BASES} decodes it. Objects are zstd frames ({@code
 * application/zstd}). Errors are {@code {"error": text, "code": reason, "status": n, "retry":
 * bool}}; 502/503/504 mean "retry later", every other status is final for that request.
 */
@io.netty.channel.ChannelHandler.Sharable
final class HttpApi extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(HttpApi.class);
  static final ObjectMapper JSON = new ObjectMapper();
  static final String LENGTHS_HEADER = "X-Styx-Lengths";
  static final String BASE_LENGTH_HEADER = "X-Styx-Base-Length";
  static final String MANIFEST_KEY_HEADER = "X-Styx-Manifest-Key";
  static final String CACHE_HEADER = "X-Styx-Cache";

  private final Manifester manifester;
  private final ChunkService chunks;
  private final ServerMetrics metrics;
  private final Executor blocking;

  HttpApi(Manifester manifester, ChunkService chunks, ServerMetrics metrics, Executor blocking) {
    this.manifester = manifester;
    this.chunks = chunks;
    this.metrics = metrics;
    this.blocking = blocking;
  }

  /** A response before HTTP framing. */
  private record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
    static Reply of(int status, String type, byte[] body) {
      return new Reply(status, type, body, Map.of());
    }
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
    HttpMethod method = req.method();
    String uri = req.uri();
    byte[] body = ByteBufUtil.getBytes(req.content());
    boolean keepAlive = HttpUtil.isKeepAlive(req);
    boolean decodeFailed = req.decoderResult().isFailure();
    metrics.bytesIn.add(body.length);
    ctx.channel().config().setAutoRead(false);
    blocking.execute(
        () -> {
          String route = routeName(uri);
          Reply r;
          if (decodeFailed) {
            r = error(ApiException.badRequest("malformed HTTP request"));
          } else {
            r = handleSafely(method, uri, body);
          }
          metrics.request(route, method.name(), r.status());
          metrics.bytesOut.add(r.body().length);
          write(ctx, r, keepAlive);
        });
  }

  private Reply handleSafely(HttpMethod method, String uri, byte[] body) {
    try {
      return handle(method, uri, body);
    } catch (ApiException e) {
      return error(e);
    } catch (IllegalArgumentException e) {
      return error(ApiException.badRequest(e.getMessage()));
    } catch (IOException e) {
      log.warn("{} {} failed", method, uri, e);
      return error(new ApiException(500, "io-error", e.getMessage(), e));
    } catch (RuntimeException e) {
      log.error("{} {} failed", method, uri, e);
      return error(new ApiException(500, "internal", String.valueOf(e), e));
    }
  }

  private Reply handle(HttpMethod method, String uri, byte[] body) throws IOException {
    String path = uri;
    int q = path.indexOf('?');
    if (q >= 0) {
      path = path.substring(0, q);
    }
    if (path.equals("/healthz")) {
      requireMethod(method, HttpMethod.GET);
      return Reply.of(200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8));
    }
    if (path.equals("/metrics")) {
      requireMethod(method, HttpMethod.GET);
      return Reply.of(
          200,
          "text/plain; version=0.0.4; charset=utf-8",
          metrics.render().getBytes(StandardCharsets.UTF_8));
    }
    if (path.startsWith("/chunk/")) {
      requireMethod(method, HttpMethod.GET);
      ChunkDigest d = ChunkDigest.parseHex(path.substring("/chunk/".length()));
      return Reply.of(200, "application/zstd", chunks.chunkObject(d));
    }
    if (path.equals("/chunks")) {
      requireMethod(method, HttpMethod.POST);
      JsonNode j = parseJson(body);
      return encoded(chunks.batch(digests(j, "digests", true)));
    }
    if (path.equals("/chunkdiff")) {
      requireMethod(method, HttpMethod.POST);
      JsonNode j = parseJson(body);
      return encoded(chunks.diff(digests(j, "bases", false), digests(j, "targets", true)));
    }
    if (path.equals("/manifest")) {
      requireMethod(method, HttpMethod.POST);
      JsonNode j = parseJson(body);
      String upstream = text(j, "upstream");
      String storePath = text(j, "storePath");
      Manifester.Result res = manifester.manifest(upstream, storePath);
      return new Reply(
          200,
          "application/zstd",
          res.object(),
          Map.of(MANIFEST_KEY_HEADER, res.key(), CACHE_HEADER, res.source()));
    }
    if (path.startsWith("/manifest/")) {
      requireMethod(method, HttpMethod.GET);
      String key = path.substring("/manifest/".length());
      return Reply.of(200, "application/zstd", manifester.cachedObject(key));
    }
    throw ApiException.notFound("no-route", "no route " + path);
  }

  private static Reply encoded(ChunkService.Encoded e) {
    StringBuilder sb = new StringBuilder();
    for (long l : e.lengths()) {
      if (!sb.isEmpty()) {
        sb.append(',');
      }
      sb.append(l);
    }
    return new Reply(
        200,
        "application/zstd",
        e.frame(),
        Map.of(LENGTHS_HEADER, sb.toString(), BASE_LENGTH_HEADER, Long.toString(e.baseBytes())));
  }

  private static void requireMethod(HttpMethod got, HttpMethod want) {
    if (!got.equals(want)) {
      throw new ApiException(405, "method-not-allowed", "use " + want + ", not " + got);
    }
  }

  private static JsonNode parseJson(byte[] body) {
    if (body.length == 0) {
      throw ApiException.badRequest("empty request body (want JSON)");
    }
    try {
      JsonNode n = JSON.readTree(body);
      if (n == null || !n.isObject()) {
        throw ApiException.badRequest("request body must be a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw ApiException.badRequest("request body is not JSON: " + e.getMessage());
    }
  }

  private static String text(JsonNode j, String field) {
    JsonNode v = j.get(field);
    if (v == null || !v.isTextual()) {
      throw ApiException.badRequest("field \"" + field + "\" (string) is required");
    }
    return v.asText();
  }

  private static List<ChunkDigest> digests(JsonNode j, String field, boolean required) {
    JsonNode v = j.get(field);
    if (v == null && !required) {
      return List.of();
    }
    if (v == null || !v.isArray()) {
      throw ApiException.badRequest("field \"" + field + "\" (array of hex digests) is required");
    }
    if (v.size() > ChunkService.MAX_DIGESTS) {
      throw ApiException.badRequest(
          "at most " + ChunkService.MAX_DIGESTS + " digests in \"" + field + "\"");
    }
    List<ChunkDigest> out = new ArrayList<>(v.size());
    for (JsonNode d : v) {
      if (!d.isTextual()) {
        throw ApiException.badRequest("\"" + field + "\" must hold hex strings");
      }
      out.add(ChunkDigest.parseHex(d.asText()));
    }
    return out;
  }

  static Reply error(ApiException e) {
    ObjectNode n = JSON.createObjectNode();
    n.put("error", e.getMessage());
    n.put("code", e.code());
    n.put("status", e.status());
    n.put("retry", e.retryable());
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(n);
    } catch (IOException ex) {
      body = "{\"error\":\"internal\"}".getBytes(StandardCharsets.UTF_8);
    }
    Map<String, String> h = e.retryable() ? Map.of("Retry-After", "1") : Map.of();
    return new Reply(e.status(), "application/json", body, h);
  }

  /** Route label for metrics: fixed names, never raw URIs. */
  static String routeName(String uri) {
    if (uri.startsWith("/chunk/")) {
      return "/chunk";
    }
    if (uri.startsWith("/manifest/")) {
      return "/manifest/key";
    }
    for (String r : List.of("/manifest", "/chunks", "/chunkdiff", "/metrics", "/healthz")) {
      if (uri.equals(r) || uri.startsWith(r + "?")) {
        return r;
      }
    }
    return "other";
  }

  private static void write(ChannelHandlerContext ctx, Reply r, boolean keepAlive) {
    FullHttpResponse resp =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(r.status()),
            Unpooled.wrappedBuffer(r.body()));
    resp.headers().set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
    resp.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
    r.headers().forEach((k, v) -> resp.headers().set(k, v));
    if (keepAlive) {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(resp)
          .addListener(
              f -> {
                ctx.channel().config().setAutoRead(true);
                ctx.read();
              });
    } else {
      resp.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(resp).addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("connection error", cause);
    ctx.close();
  }
}
