package dev.styx.cli;

import dev.styx.manifest.ChunkStreamFetcher;
import dev.styx.manifest.ChunkedManifest;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestClient;
import dev.styx.manifest.ManifestCodec;
import dev.styx.manifest.ManifestEntry;
import dev.styx.manifest.ManifestNarWriter;
import dev.styx.manifest.ManifestObject;
import dev.styx.manifest.SignedManifest;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixPublicKey;
import dev.styx.sig.NixSignature;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code styx manifest ...}: fetch, inspect and check manifests. */
@Command(
    name = "manifest",
    mixinStandardHelpOptions = true,
    description = "Fetch, show and check signed manifests.",
    subcommands = {
      ManifestCommand.Get.class,
      ManifestCommand.Nar.class,
      ManifestCommand.Show.class
    })
final class ManifestCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static NixKeyring ring(List<String> keys) {
    return NixKeyring.of(keys.stream().map(NixPublicKey::parse).toList());
  }

  /**
   * Reads a manifest file (zstd object or bare envelope); a chunked manifest's chunks come from
   * {@code chunks} (null: none, and such a file is refused with a message that says so).
   */
  static SignedManifest read(Path file, URI chunks) throws IOException {
    return ChunkStreamFetcher.join(ManifestObject.decode(Files.readAllBytes(file)), chunks);
  }

  /** {@code styx manifest get}. */
  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = {
        "Ask the manifester for the manifest of STOREPATH from --upstream, check that it is",
        "signed by a --key and describes STOREPATH, and write it to OUT (as served: a zstd",
        "frame of the signed envelope; a large manifest served as chunks is fetched from the",
        "manifester's chunks and written joined). OUT appears only if everything verified.",
      })
  static final class Get implements Callable<Integer> {
    @Option(
        names = "--manifester",
        required = true,
        paramLabel = "URL",
        description = "Manifester base URL.")
    URI manifester;

    @Option(
        names = "--upstream",
        required = true,
        paramLabel = "URL",
        description = "Binary cache the path comes from.")
    String upstream;

    @Option(
        names = "--key",
        required = true,
        paramLabel = "NAME:PUBKEY",
        description = "Trusted manifester signing key; repeatable.")
    List<String> keys;

    @Option(
        names = "--timeout",
        defaultValue = "600",
        paramLabel = "SECONDS",
        description =
            "Request timeout; ingesting a large path takes a while (default ${DEFAULT-VALUE}).")
    int timeout;

    @Parameters(
        index = "0",
        paramLabel = "STOREPATH",
        description = "/nix/store/<hash>-<name>, <hash>-<name> or <hash>.")
    String storePath;

    @Parameters(index = "1", paramLabel = "OUT", description = "Where to write the manifest.")
    Path out;

    @Override
    public Integer call() throws IOException {
      try (ManifestClient c =
          new ManifestClient(manifester, ring(keys), Duration.ofSeconds(timeout), 4)) {
        ManifestClient.Fetched f = c.request(upstream, storePath);
        Path tmp = Files.createTempFile(out.toAbsolutePath().getParent(), ".manifest-", ".tmp");
        try {
          // A chunked manifest is written joined, so OUT needs no chunk store to be read.
          boolean chunked = ManifestObject.decode(f.object()) instanceof ChunkedManifest;
          Files.write(tmp, chunked ? ManifestObject.wrap(f.signed()) : f.object());
          Files.setPosixFilePermissions(
              tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
          Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
          Files.deleteIfExists(tmp);
        }
        Manifest m = f.manifest();
        System.err.printf(
            "styx manifest get: %s: %d entries, %d chunks, NAR %d bytes, key %s -> %s%n",
            m.storePath(), m.entries().size(), m.chunkCount(), m.narSize(), f.key(), out);
      }
      return 0;
    }
  }

  /** {@code styx manifest nar}. */
  @Command(
      name = "nar",
      mixinStandardHelpOptions = true,
      description = {
        "Rebuild the NAR of MANIFEST on stdout from its inline data and the chunks under",
        "--chunks (a manifester, or any static server of a chunk store: batches via POST",
        "/chunks, else GET /chunk/HEX). Every chunk is checked against its digest; compare",
        "the output's hash with the manifest's NarHash (`nix-hash --type sha256 --flat`).",
      })
  static final class Nar implements Callable<Integer> {
    @Option(
        names = "--chunks",
        required = true,
        paramLabel = "URL",
        description = "Chunk store base URL.")
    URI chunks;

    @Option(
        names = "--key",
        paramLabel = "NAME:PUBKEY",
        description = "Check the manifest signature against these keys first; repeatable.")
    List<String> keys;

    @Option(
        names = "--parallel",
        defaultValue = "4",
        paramLabel = "N",
        description = "Batches fetched ahead (default ${DEFAULT-VALUE}).")
    int parallel;

    @Parameters(
        index = "0",
        paramLabel = "MANIFEST",
        description = "Manifest file (from `styx manifest get`).")
    Path file;

    @Override
    public Integer call() throws IOException {
      SignedManifest sm = read(file, chunks);
      Manifest m =
          keys == null || keys.isEmpty()
              ? ManifestCodec.decode(sm.manifestBytes())
              : sm.verify(ring(keys));
      long t0 = System.nanoTime();
      OutputStream raw = CliStdout.binary();
      OutputStream out = new BufferedOutputStream(raw, 1 << 20);
      long n;
      try (ChunkStreamFetcher f = new ChunkStreamFetcher(chunks, m, parallel)) {
        n = ManifestNarWriter.write(m, f, out);
        out.flush();
        raw.flush();
      }
      if (n != m.narSize()) {
        throw new IOException(
            "rebuilt NAR is " + n + " bytes, manifest says NarSize " + m.narSize());
      }
      double s = (System.nanoTime() - t0) / 1e9;
      System.err.printf("styx manifest nar: %s: %d bytes in %.1f s%n", m.storePath(), n, s);
      return 0;
    }
  }

  /** {@code styx manifest show}. */
  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description =
          "Print a manifest: store path, NarHash, references, signatures, totals; --entries lists every entry.")
  static final class Show implements Callable<Integer> {
    @Option(names = "--entries", description = "List every entry (type, mode, size, chunks, path).")
    boolean entries;

    @Option(
        names = "--key",
        paramLabel = "NAME:PUBKEY",
        description = "Also check the signature; repeatable.")
    List<String> keys;

    @Option(
        names = "--chunks",
        paramLabel = "URL",
        description =
            "Chunk store to fetch a chunked manifest's chunks from (a manifester or a static server).")
    URI chunks;

    @Parameters(index = "0", paramLabel = "MANIFEST", description = "Manifest file.")
    Path file;

    @Override
    public Integer call() throws IOException {
      SignedManifest sm = read(file, chunks);
      Manifest m =
          keys == null || keys.isEmpty()
              ? ManifestCodec.decode(sm.manifestBytes())
              : sm.verify(ring(keys));
      PrintStream o = System.out;
      o.println("StorePath:  " + m.storePath());
      o.println("NarHash:    " + m.narHash());
      o.println("NarSize:    " + m.narSize());
      o.println("References: " + String.join(" ", m.references()));
      for (NixSignature s : sm.signatures()) {
        o.println("Sig:        " + s);
      }
      if (keys != null && !keys.isEmpty()) {
        o.println(
            "Verified:   yes ("
                + String.join(", ", keys.stream().map(k -> k.substring(0, k.indexOf(':'))).toList())
                + ")");
      }
      long dirs = 0;
      long inline = 0;
      long chunked = 0;
      long links = 0;
      for (ManifestEntry e : m.entries()) {
        switch (e) {
          case ManifestEntry.Directory d -> dirs++;
          case ManifestEntry.InlineFile f -> inline++;
          case ManifestEntry.ChunkedFile f -> chunked++;
          case ManifestEntry.Symlink l -> links++;
        }
      }
      o.printf(
          "Entries:    %d (%d directories, %d inline files, %d chunked files, %d symlinks)%n",
          m.entries().size(), dirs, inline, chunked, links);
      o.printf("FileBytes:  %d in %d chunks%n", m.fileBytes(), m.chunkCount());
      o.printf("Manifest:   %d bytes encoded%n", sm.manifestBytes().length);
      if (entries) {
        for (ManifestEntry e : m.entries()) {
          o.println(
              switch (e) {
                case ManifestEntry.Directory d -> "d          -        " + d.path();
                case ManifestEntry.InlineFile f ->
                    String.format(
                        "%s %10d inline   %s", f.executable() ? "x" : "f", f.size(), f.path());
                case ManifestEntry.ChunkedFile f ->
                    String.format(
                        "%s %10d %4dx%-4s %s",
                        f.executable() ? "x" : "f",
                        f.size(),
                        f.digests().size(),
                        (f.chunkSize() >> 10) + "K",
                        f.path());
                case ManifestEntry.Symlink l ->
                    "l          -        " + l.path() + " -> " + l.target();
              });
        }
      }
      return 0;
    }
  }
}
