package dev.styx.manifest;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The retry policy of the manifest clients (CLI and daemon) and the chunk-stream client: transport
 * errors and 502/503/504 are retried with jittered exponential backoff (200 ms doubling, at most 5
 * s), for a number of attempts ({@link #send}) or until a deadline ({@link #sendUntil}); any other
 * answer is returned to the caller. Transport errors include a connection the server closed while
 * the client reused it: a plain HTTP/1.0 static server ({@code python3 -m http.server}) closes
 * every connection after one answer, and the JDK client may send the next request on it first.
 */
public final class HttpRetry {
  private HttpRetry() {}

  /** Sends {@code r} up to {@code maxAttempts} times; the last error says how often it tried. */
  static HttpResponse<byte[]> send(HttpClient http, HttpRequest r, int maxAttempts)
      throws IOException {
    IOException last = null;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        sleep(backoffMillis(attempt - 1));
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
      if (retryable(s) && attempt < maxAttempts) {
        last = ManifestClient.error(resp, r.method() + " " + r.uri());
        continue;
      }
      return resp;
    }
    throw last;
  }

  /** Told of each failed attempt that will be retried: its number and what went wrong. */
  @FunctionalInterface
  public interface RetryListener {
    void retrying(int attempt, String why);
  }

  /**
   * Sends the request {@code request} builds (given the time left, its timeout) until an answer
   * other than 502/503/504 arrives, retrying transport errors and those statuses with the backoff
   * above, cut short by {@code deadline}. At the deadline, throws the last error with the number of
   * attempts.
   */
  public static HttpResponse<byte[]> sendUntil(
      HttpClient http,
      java.util.function.Function<java.time.Duration, HttpRequest> request,
      java.time.Instant deadline,
      RetryListener onRetry)
      throws IOException {
    String last = "no time left";
    int attempt = 0;
    while (true) {
      java.time.Duration left = java.time.Duration.between(java.time.Instant.now(), deadline);
      if (left.toMillis() <= 0) {
        break;
      }
      attempt++;
      HttpRequest r = request.apply(left);
      try {
        HttpResponse<byte[]> resp = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
        int s = resp.statusCode();
        if (!retryable(s)) {
          return resp;
        }
        last = ManifestClient.error(resp, r.method() + " " + r.uri()).getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted: " + r.method() + " " + r.uri());
      } catch (IOException e) {
        last = r.method() + " " + r.uri() + " failed: " + describe(e);
      }
      onRetry.retrying(attempt, last);
      long until = java.time.Duration.between(java.time.Instant.now(), deadline).toMillis();
      if (until <= 0) {
        break;
      }
      sleep(Math.min(backoffMillis(attempt), until));
    }
    throw new ManifestRequestException(
        0,
        "deadline",
        last
            + " (gave up at the deadline after "
            + attempt
            + " attempt"
            + (attempt == 1 ? ")" : "s)"));
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

  /** 502, 503 and 504: the server (or a proxy before it) says to come back later. */
  private static boolean retryable(int status) {
    return status == 502 || status == 503 || status == 504;
  }

  /** The pause after {@code failed} failed attempts: 200 ms doubling, at most 5 s, +0-25%. */
  private static long backoffMillis(int failed) {
    long ms = Math.min(200L << Math.min(failed - 1, 5), 5_000);
    return ms + ThreadLocalRandom.current().nextLong(ms / 4 + 1);
  }

  private static void sleep(long ms) throws InterruptedIOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while retrying");
    }
  }
}
