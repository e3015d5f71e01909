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
 * Training runs for the JDK's AOT cache (JEP 483/515). {@code scripts/styx} records one cache per
 * profile, once per build, with {@code java -XX:AOTCacheOutput=FILE -Dstyx.startupTraining=PROFILE
 * -jar styx.jar > /dev/null}, and then starts commands with {@code -XX:AOTCache=FILE}: the classes
 * (loaded and linked) and method profiles of their start-up are then ready. The runs are the real
 * command paths, in-process, on the running JDK's own files (always present, a real tree).
 *
 * <p>Profiles: {@code nar} is the picocli-free path ({@code styx nar ...}, {@code --version}) and
 * holds nothing else, since every class in an AOT cache is loaded at start-up (a cache of the whole
 * CLI costs {@code nar dump} ~10 ms); {@code cli} is picocli's help of every group, for the other
 * commands. The caller's stdout must be /dev/null (NAR dumps go there).
 */
public final class StartupTraining {
  private StartupTraining() {}

  /** The system property that makes {@link StyxMain#main} run a profile instead of a command. */
  static final String PROPERTY = "styx.startupTraining";

  /** Runs the training of {@code profile}; throws if any command failed, so no cache is kept. */
  static void run(String profile) throws IOException {
    switch (profile) {
      case "nar" -> nar();
      case "cli" -> check(StyxMain.run("--help"));
      default -> throw new IllegalArgumentException("unknown training profile '" + profile + "'");
    }
  }

  private static void nar() throws IOException {
    Path jdk = Path.of(System.getProperty("java.home"));
    Path conf = jdk.resolve("conf");
    Path tmp = Files.createTempDirectory("styx-aot-training");
    InputStream stdin = System.in;
    try {
      // Hot enough for the profiles to mean something; dumping to /dev/null costs ~10 ms warm.
      for (int i = 0; i < 12; i++) {
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
