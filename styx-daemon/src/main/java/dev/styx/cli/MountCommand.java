package dev.styx.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.daemon.StorePathArg;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx mount}: asks the daemon to mount a store path. */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    description = {
      "Mount a store path through the daemon (the same request the Nix patch sends).",
      "STOREPATH is /nix/store/<hash>-<name> or <hash>-<name>. Returns when the path is",
      "mounted (eager backend: after all its chunks are fetched) or fails with the reason.",
    })
final class MountCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(
      names = "--upstream",
      required = true,
      description = "Binary cache URL the path comes from.")
  String upstream;

  @Option(names = "--nar-size", defaultValue = "0", description = "NAR size, if known.")
  long narSize;

  @Parameters(index = "0", paramLabel = "STOREPATH")
  String storePath;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT")
  Path mountPoint;

  @Override
  public Integer call() throws Exception {
    var sp = StorePathArg.parse(storePath);
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("Upstream", upstream);
    n.put("StorePath", sp.baseName());
    n.put("MountPoint", mountPoint.toAbsolutePath().normalize().toString());
    n.put("NarSize", narSize);
    long t0 = System.nanoTime();
    client.call("/mount", n.toString());
    System.err.printf(
        "styx: mounted %s on %s in %d ms%n",
        sp.baseName(), mountPoint, (System.nanoTime() - t0) / 1_000_000);
    return 0;
  }
}
