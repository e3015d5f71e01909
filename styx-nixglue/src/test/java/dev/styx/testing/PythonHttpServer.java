package dev.styx.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code python3 -m http.server} over a directory on 127.0.0.1 (ephemeral port): the static server
 * the docs name as a chunk-tree server. It answers HTTP/1.0 and closes every connection after one
 * answer, which a client that reuses connections must survive. Needs {@code python3} (fails loudly
 * without it unless {@code STYX_ALLOW_SKIP=1}).
 */
public final class PythonHttpServer implements AutoCloseable {
  private static final Pattern PORT = Pattern.compile("port (\\d+)");

  private final Process process;
  private final int port;

  /** Starts serving {@code root} and waits until it listens. */
  public PythonHttpServer(Path root) throws IOException {
    Path python = Tiers.requireCommand("python3");
    process =
        new ProcessBuilder(
                python.toString(),
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "--directory",
                root.toAbsolutePath().toString(),
                "0")
            .redirectErrorStream(false)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    String line = out.readLine();
    Matcher m = line == null ? null : PORT.matcher(line);
    if (m == null || !m.find()) {
      process.destroyForcibly();
      throw new IOException("python3 -m http.server did not start: " + line);
    }
    port = Integer.parseInt(m.group(1));
    Thread drain =
        new Thread(
            () -> {
              try {
                while (out.readLine() != null) {
                  // keep the pipe from filling up
                }
              } catch (IOException ignored) {
                // the server exited
              }
            },
            "python-http-server-out");
    drain.setDaemon(true);
    drain.start();
  }

  /** Base URI, ending in a slash. */
  public URI uri() {
    return URI.create("http://127.0.0.1:" + port + "/");
  }

  @Override
  public void close() throws IOException {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
