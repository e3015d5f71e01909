package dev.styx.manifest;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry policy of the manifest and chunk-stream clients: transport errors and 502/503/504 are
 * retried with jittered exponential backoff (200 ms doubling, at most 5 s); any other answer is
 * returned to the caller. Transport errors include a connection the server closed while the client
 * reused it: a plain HTTP/1.0 static server ({@code python3 -m http.server}) closes every
 * connection after one answer, and the JDK client may send the next request on it first.
 */
final class HttpRetry {
  private HttpRetry() {}

  /** Sends {@code r} up to {@code maxAttempts} times; the last error says how often it tried. */
  static HttpResponse<byte[]> send(HttpClient http, HttpRequest r, int maxAttempts)
      throws IOException {
    IOException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        backoff(attempt);
      }
      HttpResponse<byte[]> resp;
      try {
        resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted: " + r.method() + " " + r.uri());
      } catch (IOException e) {
        last =
            new ManifestRequestException(
                0,
                "transport",
                r.method()
                    + " "
                    + r.uri()
                    + " failed: "
                    + describe(e)
                    + (maxAttempts > 1 ? " (gave up after " + attempt + " attempts)" : ""));
        continue;
      }
      int s = resp.statusCode();
      if ((s == 502 || s == 503 || s == 504) && attempt < maxAttempts) {
        last = ManifestClient.error(resp, r.method() + " " + r.uri());
        continue;
      }
      return resp;
    }
    throw last;
  }

  /** A transport error in words: the JDK's ConnectException usually has no message at all. */
  static String describe(IOException e) {
    String m = e.getMessage();
    String detail = m == null || m.isBlank() ? "" : " (" + m + ")";
    if (e instanceof java.net.ConnectException) {
      return "cannot connect: nothing listening or unreachable" + detail;
    }
    if (e instanceof java.net.http.HttpTimeoutException) {
      return "timed out" + detail;
    }
    return e.getClass().getSimpleName() + detail;
  }

  private static void backoff(int attempt) throws InterruptedIOException {
    long ms = Math.min(200L << (attempt - 2), 5_000);
    try {
      Thread.sleep(ms + ThreadLocalRandom.current().nextLong(ms / 4 + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying");
    }
  }
}
