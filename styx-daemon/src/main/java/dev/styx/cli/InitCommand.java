package dev.styx.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code styx init}: tells the daemon where manifests and chunks come from and whom to trust. */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = {
      "Configure a running daemon: the manifester URL, the chunk URL (a static tree serving",
      "<url>/chunk/<hex>; the manifester itself works) and the keys whose manifest signatures",
      "are trusted. Running it again replaces the settings.",
    })
final class InitCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--manifester", required = true, description = "Manifester base URL.")
  String manifester;

  @Option(names = "--chunks", description = "Chunk tree base URL (default: the manifester).")
  String chunks;

  @Option(
      names = "--trusted-key",
      required = true,
      description = "Trusted manifest signing key, NAME:BASE64 (repeatable).")
  List<String> keys;

  @Override
  public Integer call() throws Exception {
    ObjectMapper json = new ObjectMapper();
    ObjectNode n = json.createObjectNode();
    n.put("ManifesterUrl", manifester);
    n.put("ChunksUrl", chunks == null ? manifester : chunks);
    var arr = n.putArray("TrustedKeys");
    keys.forEach(arr::add);
    client.call("/init", n.toString());
    System.err.println("styx: daemon initialized (manifester " + manifester + ")");
    return 0;
  }
}
