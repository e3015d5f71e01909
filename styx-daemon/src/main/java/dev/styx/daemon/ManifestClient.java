package dev.styx.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.manifest.HttpRetry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the manifester for a store path's signed manifest ({@code POST <manifester>/manifest
 * {"upstream","storePath"}}, answered with the zstd-framed signed envelope). Network errors and
 * 502/503/504 are retried until the deadline as {@link HttpRetry#sendUntil} does; other errors are
 * final and carry the server's message.
 */
public final class ManifestClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ManifestClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BYTES = 80 << 20;

  private final HttpClient http;

  public ManifestClient(Duration connectTimeout) {
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(connectTimeout)
            .build();
  }

  /** Fetches the manifest object (not yet verified) of {@code storePath} from {@code upstream}. */
  public byte[] fetch(String manifester, String upstream, String storePath, Instant deadline)
      throws IOException {
    ObjectNode body = JSON.createObjectNode();
    body.put("upstream", upstream);
    body.put("storePath", storePath);
    String base = manifester.endsWith("/") ? manifester : manifester + "/";
    URI uri = URI.create(base).resolve("manifest");
    HttpResponse<byte[]> resp;
    try {
      resp =
          HttpRetry.sendUntil(
              http,
              left ->
                  HttpRequest.newBuilder(uri)
                      .timeout(left)
                      .header("Content-Type", "application/json")
                      .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                      .build(),
              deadline,
              (attempt, why) ->
                  log.warn("manifest for {}: {} (attempt {})", storePath, why, attempt));
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(
          "no manifest for " + storePath + " within the deadline: " + e.getMessage(), e);
    }
    int s = resp.statusCode();
    if (s != 200) {
      throw new IOException(
          "manifester refused " + storePath + " (HTTP " + s + "): " + errorText(resp.body()));
    }
    if (resp.body().length > MAX_BYTES) {
      throw new IOException("manifest response too large: " + resp.body().length + " bytes");
    }
    return resp.body();
  }

  private static String errorText(byte[] body) {
    try {
      JsonNode n = JSON.readTree(body);
      if (n != null && n.has("error")) {
        return n.get("error").asText();
      }
    } catch (IOException e) {
      // not JSON: fall through to the raw text
    }
    String s =
        new String(body, 0, Math.min(body.length, 300), java.nio.charset.StandardCharsets.UTF_8);
    return s.strip();
  }

  @Override
  public void close() {
    http.close();
  }
}
