package dev.styx.daemon;

import dev.styx.kernel.Backend;
import dev.styx.kernel.EagerBackend;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the kernel backend named by {@code --backend}. */
public final class Backends {
  private static final Logger log = LoggerFactory.getLogger(Backends.class);
  static final String FANOTIFY = "dev.styx.kernel.fanotify.FanotifyBackend";
  static final String CACHEFILES = "dev.styx.kernel.cachefiles.CachefilesBackend";

  private Backends() {}

  /** Creates the backend for {@code name}: auto, eager, fanotify or cachefiles. */
  public static Backend create(String name) throws IOException {
    return switch (name) {
      case "auto" -> {
        log.info(
            "backend auto: using eager (fetch whole paths before mounting; file-backed EROFS,"
                + " kernel 6.12+). The lazy backends are not selected automatically yet.");
        yield new EagerBackend();
      }
      case "eager" -> new EagerBackend();
      case "fanotify" -> load(FANOTIFY, name);
      case "cachefiles" -> load(CACHEFILES, name);
      default ->
          throw new IllegalArgumentException(
              "unknown backend '" + name + "' (use auto, eager, fanotify or cachefiles)");
    };
  }

  private static Backend load(String cls, String name) throws IOException {
    Class<?> c;
    try {
      c = Class.forName(cls);
    } catch (ClassNotFoundException e) {
      throw new IOException(
          "backend '" + name + "' is not available yet in this build; use --backend eager");
    }
    try {
      return (Backend) c.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IOException("cannot create backend '" + name + "': " + e, e);
    }
  }
}
