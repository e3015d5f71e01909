package dev.styx.cli;

import dev.styx.nar.NarDump;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * The training run for the JDK's AOT cache (JEP 483) of the picocli-free path ({@code styx nar
 * ...}, {@code --version}). {@code scripts/styx} records it once per build with {@code java
 * -XX:AOTCacheOutput=FILE -Dstyx.startupTraining=nar -cp styx.jar dev.styx.cli.StyxMain >
 * /dev/null} and starts those commands with {@code -XX:AOTCache=FILE}: their classes (loaded and
 * linked) are then ready at start-up. It runs the real command paths, in-process, on the running
 * JDK's own files (always present, a real tree), and nothing else: every class in an AOT cache is
 * loaded at start-up, so a cache of the whole CLI would slow {@code nar dump} (~10 ms). The
 * caller's stdout must be /dev/null (the NAR dumps go there).
 */
public final class StartupTraining {
  private StartupTraining() {}

  /** The system property that makes {@link StyxMain#main} run a profile instead of a command. */
  static final String PROPERTY = "styx.startupTraining";

  /** Runs the training of {@code profile}; throws if any command failed, so no cache is kept. */
  static void run(String profile) throws IOException {
    if (!profile.equals("nar")) {
      throw new IllegalArgumentException("unknown training profile '" + profile + "'");
    }
    nar();
  }

  private static void nar() throws IOException {
    Path jdk = Path.of(System.getProperty("java.home"));
    Path conf = jdk.resolve("conf");
    Path tmp = Files.createTempDirectory("styx-aot-training");
    InputStream stdin = System.in;
    try {
      // A few rounds, so lazily resolved call sites and lambdas of the path are all resolved.
      for (int i = 0; i < 3; i++) {
        check(StyxMain.run("nar", "dump", jdk.toString()));
      }
      Path nar = tmp.resolve("conf.nar");
      try (OutputStream out = Files.newOutputStream(nar)) {
        NarDump.dump(conf, out);
      }
      for (int i = 0; i < 3; i++) {
        check(StyxMain.run("nar", "hash", conf.toString()));
        check(StyxMain.run("nar", "hash", "--size", conf.toString()));
        check(StyxMain.run("nar", "ls", nar.toString()));
        check(StyxMain.run("nar", "ls", "--offsets", nar.toString()));
        try (InputStream in = Files.newInputStream(nar)) {
          System.setIn(in);
          check(StyxMain.run("nar", "restore", tmp.resolve("restored" + i).toString()));
        }
      }
      check(StyxMain.run("nar", "--help"));
      check(StyxMain.run("nar", "dump", "--help"));
      check(StyxMain.run("--version"));
    } finally {
      System.setIn(stdin);
      deleteTree(tmp);
    }
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new IllegalStateException("training command failed with exit code " + rc);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
            Files.delete(f);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
