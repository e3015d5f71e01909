package dev.styx.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.daemon.StorePathArg;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code styx umount}: asks the daemon to unmount a store path. */
@Command(
    name = "umount",
    mixinStandardHelpOptions = true,
    description = {
      "Unmount a store path mounted by the daemon. STOREPATH is /nix/store/<hash>-<name>,",
      "<hash>-<name> or just <hash>. Its chunks stay in the slabs for later mounts.",
    })
final class UmountCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Parameters(index = "0", paramLabel = "STOREPATH")
  String storePath;

  @Override
  public Integer call() throws Exception {
    String base =
        storePath.startsWith("/nix/store/")
            ? storePath.substring("/nix/store/".length())
            : storePath;
    StorePathArg.hashPart(base);
    ObjectNode n = new ObjectMapper().createObjectNode();
    n.put("StorePath", base);
    client.call("/umount", n.toString());
    System.err.println("styx: unmounted " + base);
    return 0;
  }
}
