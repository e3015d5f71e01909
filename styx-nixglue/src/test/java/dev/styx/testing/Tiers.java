package dev.styx.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test tiers beyond "unit": the kernel tier (root, file-backed EROFS, fanotify) and the Nix tier
 * (Debian's nix-bin). A missing requirement FAILS the test unless {@code STYX_ALLOW_SKIP=1} is set,
 * so a tier can never be skipped silently in CI (root, kernel 6.18), which never sets it.
 */
public final class Tiers {
  private Tiers() {}

  /** True when the developer explicitly allowed missing tiers to be skipped. */
  public static boolean skipAllowed() {
    return "1".equals(System.getenv("STYX_ALLOW_SKIP"));
  }

  private static void missing(String what) {
    String msg = "test tier unavailable: " + what;
    if (skipAllowed()) {
      System.err.println("SKIPPED (STYX_ALLOW_SKIP=1): " + msg);
      abort(msg);
    }
    fail(msg + " (set STYX_ALLOW_SKIP=1 to skip this tier on a developer machine)");
  }

  /** The kernel tier: root (mount(2), fanotify). */
  public static void requireRoot() {
    if (!"root".equals(System.getProperty("user.name"))) {
      missing("needs root (mount(2), fanotify)");
    }
  }

  /** A command on PATH, e.g. {@code nix-store} or {@code fsck.erofs}. */
  public static Path requireCommand(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    missing("command '" + name + "' not on PATH (apt-get install the package .ci/run lists)");
    throw new AssertionError("unreachable");
  }

  /** The Nix tier: Debian's nix-bin. */
  public static void requireNix() {
    requireCommand("nix-store");
    requireCommand("nix");
  }

  /**
   * The native SHA-256 tier: the block functions built into the jar (gcc at build time) and a CPU
   * with the SHA extensions, as on x86_64 CI machines.
   */
  public static void requireNativeSha256() {
    if (!dev.styx.hash.Sha256.available()) {
      missing("native SHA-256 unavailable: " + dev.styx.hash.Sha256.unavailableReason());
    }
  }

  /** Runs a command, failing with its stderr if it exits non-zero; returns stdout. */
  public static String run(Path cwd, String... cmd) throws IOException, InterruptedException {
    Path errFile = Files.createTempFile("styx-run", ".err");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errFile.toFile());
      if (cwd != null) {
        pb.directory(cwd.toFile());
      }
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      int rc = p.waitFor();
      if (rc != 0) {
        fail(String.join(" ", cmd) + " exited " + rc + ": " + Files.readString(errFile));
      }
      return new String(out);
    } finally {
      Files.deleteIfExists(errFile);
    }
  }
}
