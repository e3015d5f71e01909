package dev.styx.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code styx status}: the daemon's images, slabs and byte counts. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show what the daemon holds: each image (store path, state, mount point, chunks, bytes",
      "fetched), the slabs, chunk bytes present, bytes on disk after dedup, and the backend.",
      "--json prints the daemon's /debug document instead.",
    })
final class StatusCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--json", description = "Print the raw JSON state.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var reply = client.call("/debug", "{}");
    if (json) {
      System.out.println(reply.text());
      return 0;
    }
    JsonNode d = new ObjectMapper().readTree(reply.body());
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "backend: %s   cache: %s%n", d.path("backend").asText(), d.path("cacheDir").asText()));
    sb.append(
        String.format(
            "%-52s %-10s %-9s %7s %10s %10s  %s%n",
            "STORE PATH", "STATE", "KIND", "CHUNKS", "SIZE", "FETCHED", "MOUNT POINT"));
    for (JsonNode i : d.path("images")) {
      sb.append(
          String.format(
              "%-52s %-10s %-9s %7d %10s %10s  %s%n",
              i.path("storePath").asText(),
              i.path("state").asText().toLowerCase(Locale.ROOT),
              i.path("kind").asText(""),
              i.path("chunks").asLong(),
              bytes(i.path("chunkBytes").asLong()),
              bytes(i.path("fetchedBytes").asLong()),
              i.path("mountPoint").asText("")));
      if (!i.path("error").isNull() && !i.path("error").asText("").isEmpty()) {
        sb.append("    error: ").append(i.path("error").asText()).append('\n');
      }
    }
    sb.append(String.format("slabs: %d%n", d.path("slabs").size()));
    for (JsonNode s : d.path("slabs")) {
      sb.append(
          String.format(
              "  slab %d  %s  used %s%n",
              s.path("id").asInt(),
              s.path("file").asText(),
              bytes(s.path("usedBlocks").asLong() * 4096)));
    }
    JsonNode c = d.path("chunks");
    JsonNode f = d.path("fetch");
    sb.append(
        String.format(
            "chunks: %d placed, %d present (%s)%n",
            c.path("placed").asLong(),
            c.path("present").asLong(),
            bytes(c.path("presentBytes").asLong())));
    sb.append(
        String.format(
            "bytes fetched: %s (%s on the wire, %d requests)   bytes on disk: %s%n",
            bytes(f.path("bytes").asLong()),
            bytes(f.path("wireBytes").asLong()),
            f.path("singleRequests").asLong() + f.path("batchRequests").asLong(),
            bytes(d.path("bytesOnDisk").asLong())));
    long manifestChunks = f.path("manifestChunks").asLong();
    if (manifestChunks > 0) {
      sb.append(
          String.format(
              "  of which %d chunks of large manifests (joined at mount)%n", manifestChunks));
    }
    System.out.print(sb);
    return 0;
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] u = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int i = -1;
    while (v >= 1024 && i < u.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, u[i]);
  }
}
