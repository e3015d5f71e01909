package dev.styx.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.sig.NixKeyring;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Asks a manifester for a store path's manifest ({@code POST /manifest}) or reads it from a
 * manifest cache ({@code GET <base>/manifest/<key>}, any static server), and accepts it only if it
 * is signed by a trusted key and describes the store path asked for; a large manifest stored as
 * chunks ({@link ChunkedManifest}) is joined from the same server's chunks. 502/503/504 and
 * transport errors are retried with backoff; other errors fail at once with the server's message.
 */
public final class ManifestClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI manifester;
  private final NixKeyring trusted;
  private final Duration timeout;
  private final int maxAttempts;
  private final HttpClient http;

  /**
   * A verified manifest with the exact object it came in (store it as is; a {@link
   * ChunkedManifest}'s object needs its chunks beside it, {@code signed} holds it joined).
   */
  public record Fetched(String key, byte[] object, SignedManifest signed, Manifest manifest) {}

  /**
   * @param manifester base URL of the manifester (also used as the manifest cache by {@link
   *     #cached(String, String)})
   * @param trusted the manifester signing keys to trust
   * @param timeout per-request timeout (an ingest of a large path takes a while)
   */
  public ManifestClient(URI manifester, NixKeyring trusted, Duration timeout, int maxAttempts) {
    this.manifester = base(manifester);
    this.trusted = trusted;
    this.timeout = timeout;
    this.maxAttempts = Math.max(1, maxAttempts);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
  }

  private static URI base(URI u) {
    String s = u.toString();
    return URI.create(s.endsWith("/") ? s : s + "/");
  }

  /** Requests (building if needed) and verifies the manifest of {@code storePath}. */
  public Fetched request(String upstream, String storePath) throws IOException {
    ObjectNode req = JSON.createObjectNode();
    req.put("upstream", upstream);
    req.put("storePath", storePath);
    HttpRequest r =
        HttpRequest.newBuilder(manifester.resolve("manifest"))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(req)))
            .build();
    HttpResponse<byte[]> resp = send(r);
    if (resp.statusCode() != 200) {
      throw error(resp, "manifest request for " + storePath);
    }
    String key =
        resp.headers()
            .firstValue("X-Styx-Manifest-Key")
            .orElse(ManifestKey.of(upstream, storePath));
    return verify(key, resp.body(), storePath);
  }

  /** Reads the manifest of {@code storePath} from the manifest cache; empty if not cached. */
  public Optional<Fetched> cached(String upstream, String storePath) throws IOException {
    String key = ManifestKey.of(upstream, storePath);
    HttpRequest r =
        HttpRequest.newBuilder(manifester.resolve("manifest/" + key))
            .timeout(timeout)
            .GET()
            .build();
    HttpResponse<byte[]> resp = send(r);
    if (resp.statusCode() == 404 || resp.statusCode() == 403) {
      return Optional.empty();
    }
    if (resp.statusCode() != 200) {
      throw error(resp, "manifest cache read of " + key);
    }
    return Optional.of(verify(key, resp.body(), storePath));
  }

  /** The cached manifest if present, else a manifester request. */
  public Fetched get(String upstream, String storePath) throws IOException {
    Optional<Fetched> c = cached(upstream, storePath);
    return c.isPresent() ? c.get() : request(upstream, storePath);
  }

  /**
   * Verifies a manifest object: signature by a trusted key, and the store path (full path or base
   * name) or hash part it must describe.
   */
  public Fetched verify(String key, byte[] object, String storePath) throws IOException {
    // A large manifest's chunks come from the same server (a manifester's /chunks and /chunk/HEX,
    // or a static store's chunk/ tree).
    SignedManifest sm = ChunkStreamFetcher.join(ManifestObject.decode(object), manifester);
    Manifest m = sm.verify(trusted);
    boolean matches =
        storePath.startsWith("/")
            ? m.storePath().equals(storePath)
            : storePath.length() == 32
                ? m.hashPart().equals(storePath)
                : m.baseName().equals(storePath);
    if (!matches) {
      throw new ManifestFormatException("manifest is for " + m.storePath() + ", not " + storePath);
    }
    return new Fetched(key, object, sm, m);
  }

  private HttpResponse<byte[]> send(HttpRequest r) throws IOException {
    return HttpRetry.send(http, r, maxAttempts);
  }

  /** Turns an error response ({@code {"error","code",...}} or plain text) into an exception. */
  static ManifestRequestException error(HttpResponse<byte[]> resp, String what) {
    String msg = new String(resp.body(), StandardCharsets.UTF_8);
    String code = "";
    try {
      JsonNode n = JSON.readTree(resp.body());
      if (n != null && n.hasNonNull("error")) {
        msg = n.get("error").asText();
        code = n.path("code").asText("");
      }
    } catch (IOException | RuntimeException notJson) {
      msg = msg.length() > 300 ? msg.substring(0, 300) + "..." : msg;
    }
    return new ManifestRequestException(
        resp.statusCode(), code, what + ": HTTP " + resp.statusCode() + ": " + msg);
  }

  @Override
  public void close() {
    http.close();
  }
}
