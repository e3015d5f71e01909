package dev.styx.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.db.DaemonParams;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's HTTP routes over the Unix socket. As in the Go original, the method is not checked
 * and every route takes a JSON body: {@code /mount}, {@code /umount} (Nix patch wire format,
 * answering {@code {"Success":true}} or {@code {"Success":false,"Error":"..."}}), {@code /init},
 * {@code /debug} (state as JSON), {@code /metrics} (Prometheus text) and {@code /prefetch} ({@code
 * {"Path":..., "DryRun":bool}}, answering the summary of what was fetched).
 */
public final class ApiRoutes {
  private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
  static final ObjectMapper JSON =
      new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  private final StyxService service;

  public ApiRoutes(StyxService service) {
    this.service = service;
  }

  /** A response: status, content type and body. */
  public record Response(int status, String contentType, byte[] body) {
    static Response json(int status, Object o) {
      try {
        return new Response(status, "application/json", JSON.writeValueAsBytes(o));
      } catch (IOException e) {
        return new Response(500, "application/json", "{\"Error\":\"encoding\"}".getBytes());
      }
    }
  }

  /** Handles one request; never throws. */
  public Response handle(String path, byte[] body) {
    int q = path.indexOf('?');
    String route = q >= 0 ? path.substring(0, q) : path;
    long t0 = System.nanoTime();
    Response r;
    try {
      r = dispatch(route, body);
    } catch (ApiError e) {
      r = failure(e.status(), e.getMessage());
    } catch (IllegalArgumentException e) {
      r = failure(400, e.getMessage());
    } catch (IOException e) {
      r = failure(500, e.getMessage());
    } catch (RuntimeException | Error e) {
      // An Error must still answer: a client would otherwise wait forever on the socket.
      log.error("{} failed", route, e);
      r = failure(500, "internal error: " + e);
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (!route.equals("/metrics") && !route.equals("/debug")) {
      log.info(
          "{} -> {} in {} ms{}",
          route,
          r.status(),
          ms,
          r.status() == 200 ? "" : ": " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return r;
  }

  private Response dispatch(String route, byte[] body) throws IOException {
    switch (route) {
      case "/mount" -> {
        MountRequest m = parse(body, MountRequest.class);
        service.mount(m);
        return success();
      }
      case "/umount" -> {
        JsonNode j = parseTree(body);
        service.umount(text(j, "StorePath"));
        return success();
      }
      case "/init" -> {
        service.init(parseInit(parseTree(body)));
        return success();
      }
      case "/prefetch" -> {
        JsonNode j = parseTree(body);
        return Response.json(
            200, service.prefetch(text(j, "Path"), j.path("DryRun").asBoolean(false)));
      }
      case "/debug" -> {
        return Response.json(200, service.debug());
      }
      case "/metrics" -> {
        return new Response(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            service.metrics().getBytes(StandardCharsets.UTF_8));
      }
      default -> throw new ApiError(404, "no route " + route);
    }
  }

  /**
   * {@code /init} body: {@code {"ManifesterUrl","ChunksUrl","TrustedKeys":[...]}}, or the Go
   * original's {@code {"PubKeys":[...],"Params":{"manifester_url","chunk_read_url"}}}.
   */
  static DaemonParams parseInit(JsonNode j) throws ApiError {
    JsonNode params = j.path("Params");
    String manifester = firstText(j.path("ManifesterUrl"), params.path("manifester_url"));
    String chunks = firstText(j.path("ChunksUrl"), params.path("chunk_read_url"));
    JsonNode keys = j.has("TrustedKeys") ? j.get("TrustedKeys") : j.path("PubKeys");
    if (manifester == null || manifester.isEmpty()) {
      throw ApiError.badRequest("init needs a manifester URL");
    }
    if (chunks == null || chunks.isEmpty()) {
      chunks = manifester;
    }
    for (String u : List.of(manifester, chunks)) {
      if (!u.startsWith("http://") && !u.startsWith("https://")) {
        throw ApiError.badRequest("URL must be http(s)://: " + u);
      }
    }
    List<String> ks = new ArrayList<>();
    if (keys.isArray()) {
      for (JsonNode k : keys) {
        ks.add(k.asText());
      }
    }
    if (ks.isEmpty()) {
      throw ApiError.badRequest("init needs at least one trusted key (name:base64)");
    }
    return new DaemonParams(manifester, chunks, ks);
  }

  private static String firstText(JsonNode a, JsonNode b) {
    if (a.isTextual()) {
      return a.asText();
    }
    return b.isTextual() ? b.asText() : null;
  }

  private static Response success() {
    ObjectNode n = JSON.createObjectNode();
    n.put("Success", true);
    return Response.json(200, n);
  }

  private static Response failure(int status, String error) {
    ObjectNode n = JSON.createObjectNode();
    n.put("Success", false);
    n.put("Error", error == null ? "unknown error" : error);
    return Response.json(status, n);
  }

  private static <T> T parse(byte[] body, Class<T> type) throws ApiError {
    try {
      T v = JSON.readValue(body, type);
      if (v == null) {
        throw ApiError.badRequest("request body must be a JSON object");
      }
      return v;
    } catch (IOException e) {
      throw ApiError.badRequest("request body is not valid JSON for this route");
    }
  }

  private static JsonNode parseTree(byte[] body) throws ApiError {
    try {
      JsonNode n = JSON.readTree(body);
      if (n == null || !n.isObject()) {
        throw ApiError.badRequest("request body must be a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw ApiError.badRequest("request body is not valid JSON");
    }
  }

  private static String text(JsonNode j, String field) throws ApiError {
    JsonNode v = j.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw ApiError.badRequest("\"" + field + "\" is required");
    }
    return v.asText();
  }
}
