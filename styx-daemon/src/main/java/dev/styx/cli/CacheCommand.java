package dev.styx.cli;

import dev.styx.cache.BinaryCacheClient;
import dev.styx.nar.NarRestore;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx cache ...}: talk to a Nix binary cache directly. */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    description = "Read Nix binary caches (file://, http://, https://) directly.",
    subcommands = {CacheCommand.Get.class})
final class CacheCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** {@code styx cache get --key NAME:KEY URL STOREPATH DIR}. */
  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = {
        "Fetch STOREPATH from the binary cache at URL and unpack it to DIR (which must not",
        "exist). The narinfo must carry a valid signature by one of the --key keys; the",
        "download is checked against FileHash/FileSize and NarHash/NarSize, and DIR appears",
        "only after everything verified.",
      })
  static final class Get implements Callable<Integer> {
    @Option(
        names = "--key",
        required = true,
        paramLabel = "NAME:KEY",
        description = "Trusted public key (as in nix.conf trusted-public-keys); repeatable.")
    List<String> keys;

    @Option(
        names = "--timeout",
        defaultValue = "60",
        paramLabel = "SECONDS",
        description = "Per-request timeout until response headers (default ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Parameters(index = "0", paramLabel = "URL", description = "Binary cache URL.")
    String url;

    @Parameters(
        index = "1",
        paramLabel = "STOREPATH",
        description = "/nix/store/<hash>-<name> or <hash>-<name>.")
    String storePath;

    @Parameters(index = "2", paramLabel = "DIR", description = "Where to unpack.")
    Path dir;

    @Override
    public Integer call() throws IOException {
      StorePath sp =
          storePath.startsWith("/")
              ? StorePath.parse(storePath)
              : StorePath.parseBaseName(storePath);
      NixKeyring ring = NixKeyring.of(keys.stream().map(NixPublicKey::parse).toList());
      try (BinaryCacheClient c =
          BinaryCacheClient.builder(url)
              .trustedKeys(ring)
              .requestTimeout(java.time.Duration.ofSeconds(timeoutSeconds))
              .build()) {
        NarInfo ni = c.narInfo(sp).orElseThrow(() -> new IOException(url + " does not have " + sp));
        System.err.printf(
            "styx: fetching %s (%s, %d bytes compressed, NAR %d bytes)%n",
            c.narUri(ni), ni.compression(), ni.fileSize(), ni.narSize());
        try (InputStream nar = c.openNar(ni)) {
          NarRestore.restore(nar, dir);
        }
        System.err.printf("styx: %s verified and unpacked to %s%n", sp, dir);
      }
      return 0;
    }
  }
}
