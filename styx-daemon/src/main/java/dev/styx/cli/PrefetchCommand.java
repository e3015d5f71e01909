package dev.styx.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx prefetch}: fetches everything under a lazily mounted path ahead of use. */
@Command(
    name = "prefetch",
    mixinStandardHelpOptions = true,
    description = {
      "Fetch every chunk under a mounted store path, or under a path inside it, before it is",
      "read, so that later reads never wait on the network. PATH may be /nix/store/<hash>-<name>",
      "or the mount point, optionally followed by a sub-path (e.g. .../lib). Progress goes to",
      "stderr; the summary line to stdout. With an eager backend everything is present already.",
    })
final class PrefetchCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern FETCHED =
      Pattern.compile("(?m)^styx_fetch_bytes_total ([0-9.eE+]+)$");

  @Mixin ClientOptions client;

  @Parameters(paramLabel = "STOREPATH|PATH", description = "What to fetch.")
  String path;

  @Option(names = "--dry-run", description = "Only report how much is missing.")
  boolean dryRun;

  @Override
  public Integer call() throws Exception {
    String abs = path.startsWith("/") ? path : Path.of(path).toAbsolutePath().toString();
    JsonNode plan = request(abs, true);
    long missing = plan.path("missingBytes").asLong();
    if (dryRun || missing == 0) {
      print(plan, missing, dryRun ? "missing" : "nothing to fetch,");
      return 0;
    }
    long before = fetchedBytes();
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    outcome.set(request(abs, false));
                  } catch (IOException | RuntimeException e) {
                    outcome.set(e);
                  }
                });
    while (!worker.join(java.time.Duration.ofMillis(500))) {
      long done = Math.min(missing, Math.max(0, fetchedBytes() - before));
      System.err.printf(
          "prefetch: %s / %s (%d%%)%n", mib(done), mib(missing), done * 100 / missing);
    }
    if (outcome.get() instanceof IOException e) {
      throw e;
    }
    if (outcome.get() instanceof RuntimeException e) {
      throw e;
    }
    print((JsonNode) outcome.get(), missing, "fetched");
    return 0;
  }

  private JsonNode request(String p, boolean dry) throws IOException {
    ObjectNode n = JSON.createObjectNode();
    n.put("Path", p);
    n.put("DryRun", dry);
    return JSON.readTree(client.call("/prefetch", n.toString()).body());
  }

  private long fetchedBytes() {
    try {
      Matcher m = FETCHED.matcher(client.call("/metrics", "{}").text());
      return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    } catch (IOException | RuntimeException e) {
      return 0; // progress only
    }
  }

  private static void print(JsonNode r, long missing, String verb) {
    System.out.println(
        String.format(
            "%s%s: %d files, %d chunks, %s; %s %s",
            r.path("storePath").asText(),
            r.path("subPath").asText("/").equals("/") ? "" : r.path("subPath").asText(),
            r.path("files").asInt(),
            r.path("chunks").asInt(),
            mib(r.path("bytes").asLong()),
            verb,
            mib(missing)));
  }

  private static String mib(long b) {
    return String.format("%.1f MiB", b / 1048576.0);
  }
}
