package dev.styx.cache;

import dev.styx.narinfo.NarInfo;
import dev.styx.narinfo.NixCacheInfo;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads a Nix binary cache over {@code file://} or {@code http(s)://}: narinfo by hash part (404 or
 * a missing file means absent), its signature checked against trusted keys, and the NAR streamed,
 * decompressed and verified against FileHash/FileSize and NarHash/NarSize. HTTP requests have
 * timeouts and bounded retries with exponential backoff for transport errors, 5xx and 429.
 */
public final class BinaryCacheClient implements AutoCloseable {
  /** Largest narinfo / nix-cache-info accepted (real ones are well under 4 KiB). */
  private static final int MAX_TEXT = 1 << 20;

  private final URI base;
  private final NixKeyring trusted;
  private final boolean requireSignatures;
  private final Duration requestTimeout;
  private final int maxAttempts;
  private final Duration initialBackoff;
  private final HttpClient http;

  private BinaryCacheClient(Builder b) {
    this.base = normalize(b.url);
    this.trusted = b.trusted;
    this.requireSignatures = b.requireSignatures;
    this.requestTimeout = b.requestTimeout;
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.http =
        isFile()
            ? null
            : HttpClient.newBuilder()
                .connectTimeout(b.connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
  }

  /** Starts configuring a client for the cache at {@code url} (file://, http://, https://). */
  public static Builder builder(String url) {
    return new Builder(url);
  }

  /** Options for {@link BinaryCacheClient}. */
  public static final class Builder {
    private final String url;
    private NixKeyring trusted = NixKeyring.of();
    private boolean requireSignatures = true;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(60);
    private int maxAttempts = 4;
    private Duration initialBackoff = Duration.ofMillis(200);

    private Builder(String url) {
      this.url = Objects.requireNonNull(url);
    }

    /** Keys whose signatures make a narinfo trusted (Nix's trusted-public-keys). */
    public Builder trustedKeys(NixKeyring keys) {
      this.trusted = keys;
      return this;
    }

    /** Whether a narinfo needs a valid signature by a trusted key (default true). */
    public Builder requireSignatures(boolean require) {
      this.requireSignatures = require;
      return this;
    }

    /** TCP connect timeout (default 10 s). */
    public Builder connectTimeout(Duration d) {
      this.connectTimeout = d;
      return this;
    }

    /** Time until response headers arrive, and longest wait for body data (default 60 s). */
    public Builder requestTimeout(Duration d) {
      this.requestTimeout = d;
      return this;
    }

    /** Attempts per request including the first (default 4). */
    public Builder maxAttempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1");
      }
      this.maxAttempts = n;
      return this;
    }

    /** Delay before the first retry; doubled per retry (default 200 ms). */
    public Builder initialBackoff(Duration d) {
      this.initialBackoff = d;
      return this;
    }

    /** Builds the client. */
    public BinaryCacheClient build() {
      return new BinaryCacheClient(this);
    }
  }

  private static URI normalize(String url) {
    String u = url;
    int q = u.indexOf('?');
    if (q >= 0) {
      u = u.substring(0, q); // Nix store-URI parameters such as ?compression= are not ours
    }
    if (u.startsWith("/")) {
      u = Path.of(u).toUri().toString();
    }
    if (!u.endsWith("/")) {
      u = u + "/";
    }
    URI uri = URI.create(u);
    String scheme = uri.getScheme();
    if (!"file".equals(scheme) && !"http".equals(scheme) && !"https".equals(scheme)) {
      throw new IllegalArgumentException(
          "binary cache URL '" + url + "' must be file://, http:// or https://");
    }
    return uri;
  }

  private boolean isFile() {
    return "file".equals(base.getScheme());
  }

  /** The cache's base URL (with a trailing slash). */
  public URI baseUrl() {
    return base;
  }

  /** Reads {@code nix-cache-info}. */
  public NixCacheInfo cacheInfo() throws IOException {
    URI u = base.resolve("nix-cache-info");
    String text =
        fetchText(u).orElseThrow(() -> new BinaryCacheException(u + ": no nix-cache-info"));
    try {
      return NixCacheInfo.parse(text);
    } catch (IllegalArgumentException e) {
      throw new BinaryCacheException(u + ": " + e.getMessage(), e);
    }
  }

  /** The narinfo of {@code path}, verified; empty if the cache does not have it. */
  public Optional<NarInfo> narInfo(StorePath path) throws IOException {
    Optional<NarInfo> ni = narInfo(path.hashPart());
    if (ni.isPresent() && !ni.get().storePath().equals(path)) {
      throw new BinaryCacheException(
          "narinfo for " + path + " describes " + ni.get().storePath() + " instead");
    }
    return ni;
  }

  /**
   * The narinfo for a store path hash part; empty if absent (HTTP 404/403 or no file). Throws
   * {@link UntrustedNarInfoException} if signatures are required and none verifies.
   */
  public Optional<NarInfo> narInfo(String hashPart) throws IOException {
    StorePath.parseBaseName(hashPart + "-x"); // validates the hash part
    URI u = base.resolve(hashPart + ".narinfo");
    Optional<String> text = fetchText(u);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    NarInfo ni;
    try {
      ni = NarInfo.parse(text.get());
    } catch (IllegalArgumentException e) {
      throw new BinaryCacheException(u + ": malformed narinfo: " + e.getMessage(), e);
    }
    if (!ni.storePath().hashPart().equals(hashPart)) {
      throw new BinaryCacheException(
          u + ": narinfo is for " + ni.storePath() + ", not hash part " + hashPart);
    }
    if (requireSignatures && !ni.isSignedBy(trusted)) {
      throw new UntrustedNarInfoException(
          u
              + ": no valid signature by a trusted key (signed by "
              + ni.sigs().stream().map(s -> s.keyName()).toList()
              + ", trusted "
              + trusted.keys().stream().map(k -> k.name()).toList()
              + ")");
    }
    return Optional.of(ni);
  }

  /**
   * Opens the NAR of {@code info}: decompressed, and verified as it streams. Reading to EOF
   * succeeds only if sizes and hashes match; otherwise the read fails with {@link
   * NarIntegrityException}.
   */
  public InputStream openNar(NarInfo info) throws IOException {
    URI u = narUri(info);
    InputStream raw = openRaw(u);
    try {
      return new VerifiedNarStream(info, u.toString(), raw);
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  /** The absolute URL of the narinfo's file. */
  public URI narUri(NarInfo info) throws BinaryCacheException {
    URI u = base.resolve(info.url());
    if (isFile() && !u.getPath().startsWith(base.getPath())) {
      throw new BinaryCacheException(
          "narinfo for " + info.storePath() + " has URL '" + info.url() + "' outside the cache");
    }
    return u;
  }

  private Optional<String> fetchText(URI u) throws IOException {
    if (isFile()) {
      try {
        Path f = Path.of(u);
        if (Files.size(f) > MAX_TEXT) {
          throw new BinaryCacheException(u + ": document larger than " + MAX_TEXT + " bytes");
        }
        return Optional.of(Files.readString(f, StandardCharsets.UTF_8));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
    }
    HttpResponse<InputStream> r = send(u, HttpResponse.BodyHandlers.ofInputStream(), true);
    if (r == null) {
      return Optional.empty();
    }
    try (InputStream in = new StallGuardInputStream(r.body(), requestTimeout, u.toString())) {
      byte[] body = in.readNBytes(MAX_TEXT + 1);
      if (body.length > MAX_TEXT) {
        throw new BinaryCacheException(u + ": document larger than " + MAX_TEXT + " bytes");
      }
      return Optional.of(new String(body, StandardCharsets.UTF_8));
    }
  }

  private InputStream openRaw(URI u) throws IOException {
    if (isFile()) {
      try {
        return Files.newInputStream(Path.of(u));
      } catch (NoSuchFileException e) {
        throw new BinaryCacheException(u + ": NAR file missing from the cache");
      }
    }
    HttpResponse<InputStream> r = send(u, HttpResponse.BodyHandlers.ofInputStream(), false);
    return new StallGuardInputStream(r.body(), requestTimeout, u.toString());
  }

  /**
   * GETs {@code u} with retries; returns null for 404/403 when {@code absentOk}, the response for
   * 200, and throws for anything else.
   */
  private <T> HttpResponse<T> send(URI u, HttpResponse.BodyHandler<T> handler, boolean absentOk)
      throws IOException {
    HttpRequest req =
        HttpRequest.newBuilder(u)
            .timeout(requestTimeout)
            .header("User-Agent", "styx")
            .GET()
            .build();
    IOException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        sleepBackoff(attempt - 1, u);
      }
      HttpResponse<T> r;
      try {
        r = http.send(req, handler);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted fetching " + u);
      } catch (IOException e) {
        last = new BinaryCacheException("GET " + u + " failed: " + describe(e), e);
        continue;
      }
      int status = r.statusCode();
      if (status == 200) {
        return r;
      }
      discard(r);
      if ((status == 404 || status == 403) && absentOk) {
        return null;
      }
      last = new BinaryCacheException("GET " + u + " returned HTTP " + status);
      if (!(status >= 500 || status == 429 || status == 408)) {
        throw last;
      }
    }
    throw new BinaryCacheException(
        last.getMessage() + " (gave up after " + maxAttempts + " attempts)", last.getCause());
  }

  private static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private static void discard(HttpResponse<?> r) {
    if (r.body() instanceof InputStream in) {
      try {
        in.close();
      } catch (IOException ignored) {
        // the connection is dropped either way
      }
    }
  }

  private void sleepBackoff(int retry, URI u) throws InterruptedIOException {
    long ms = Math.min(initialBackoff.toMillis() << Math.min(retry - 1, 10), 10_000);
    ms += ThreadLocalRandom.current().nextLong(ms / 4 + 1);
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying " + u);
    }
  }

  @Override
  public void close() {
    if (http != null) {
      http.close();
    }
  }
}
