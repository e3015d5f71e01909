package dev.styx.cli;

import dev.styx.api.ApiClient;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --socket} for commands that talk to a running daemon. */
final class ClientOptions {
  @Option(
      names = "--socket",
      defaultValue = "/var/cache/styx/styx.sock",
      description = "Daemon API socket (default: ${DEFAULT-VALUE}).")
  Path socket;

  @Option(
      names = "--timeout",
      defaultValue = "600",
      paramLabel = "SECONDS",
      description =
          "Give up on a daemon that has not answered within this many seconds (default:"
              + " ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  ApiClient client() {
    return new ApiClient(socket, java.time.Duration.ofSeconds(timeoutSeconds));
  }

  /** POSTs and turns a {"Success":false,"Error":...} reply into an exception with that error. */
  ApiClient.Reply call(String route, String json) throws IOException {
    ApiClient.Reply r = client().post(route, json);
    if (r.status() != 200) {
      String err = r.text();
      try {
        var n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        if (n != null && n.has("Error")) {
          err = n.get("Error").asText();
        }
      } catch (IOException e) {
        // not JSON: report the raw body
      }
      throw new IOException(err + " (HTTP " + r.status() + ")");
    }
    return r;
  }
}
