package dev.styx.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * 502/503/504 are retried with backoff until the deadline; other errors are final and carry the
 * server's message.
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
    IOException last = null;
    long backoff = 200;
    for (int attempt = 1; ; attempt++) {
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.toMillis() <= 0) {
        break;
      }
      HttpRequest req =
          HttpRequest.newBuilder(uri)
              .timeout(left)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      try {
        HttpResponse<byte[]> resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
        int s = resp.statusCode();
        if (s == 200) {
          if (resp.body().length > MAX_BYTES) {
            throw new IOException("manifest response too large: " + resp.body().length + " bytes");
          }
          return resp.body();
        }
        String err = errorText(resp.body());
        if (s == 502 || s == 503 || s == 504) {
          last = new IOException("manifester answered HTTP " + s + ": " + err);
        } else {
          throw new IOException("manifester refused " + storePath + " (HTTP " + s + "): " + err);
        }
      } catch (java.net.http.HttpTimeoutException e) {
        last = new IOException("manifester at " + uri + " timed out", e);
      } catch (java.net.ConnectException e) {
        last = new IOException("cannot connect to the manifester at " + uri, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while asking the manifester");
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("manifester refused")) {
          throw e;
        }
        last = e;
      }
      log.warn("manifest for {}: {} (attempt {})", storePath, last.getMessage(), attempt);
      long sleep = Math.min(backoff, Duration.between(Instant.now(), deadline).toMillis());
      if (sleep <= 0) {
        break;
      }
      try {
        Thread.sleep(sleep);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while asking the manifester");
      }
      backoff = Math.min(backoff * 2, 5000);
    }
    throw new IOException(
        "no manifest for "
            + storePath
            + " within the deadline: "
            + (last == null ? "timed out" : last.getMessage()),
        last);
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
