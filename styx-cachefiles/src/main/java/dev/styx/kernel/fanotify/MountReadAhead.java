package dev.styx.kernel.fanotify;

import dev.styx.kernel.Backend;
import dev.styx.kernel.FileBackedMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A file-backed EROFS mount with its sequential read-ahead window set. Under fanotify each
 * read-ahead window of an EROFS file is one event, so the kernel default (128 KiB) costs one round
 * trip per 128 KiB; a larger window means fewer events per MB. Random reads start with small
 * windows, so this bounds read-ahead without widening small reads. The superblock's bdi ({@code
 * /sys/class/bdi/erofs-N}) is found as the one that appeared with the mount; callers serialize
 * their mounts.
 */
public final class MountReadAhead {
  private static final Logger LOG = LoggerFactory.getLogger(MountReadAhead.class);
  private static final String BDI_DIR = "/sys/class/bdi";

  private MountReadAhead() {}

  /** Mounts like {@link FileBackedMount#mount}, then sets read-ahead to {@code kb} (0: leave). */
  public static synchronized void mount(Path image, List<Backend.Slab> slabs, Path target, int kb)
      throws IOException {
    if (kb <= 0) {
      FileBackedMount.mount(image, slabs, target);
      return;
    }
    Set<String> before = erofsBdis();
    FileBackedMount.mount(image, slabs, target);
    Set<String> fresh = erofsBdis();
    fresh.removeAll(before);
    if (fresh.size() != 1) {
      LOG.debug("cannot tell which bdi belongs to {}; read-ahead left alone", target);
      return;
    }
    Path knob = Path.of(BDI_DIR, fresh.iterator().next(), "read_ahead_kb");
    try {
      Files.writeString(knob, Integer.toString(kb));
    } catch (IOException e) {
      LOG.debug("cannot set {}: {}", knob, e.getMessage());
    }
  }

  private static Set<String> erofsBdis() {
    Set<String> out = new HashSet<>();
    try (var s = Files.list(Path.of(BDI_DIR))) {
      s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("erofs-")).forEach(out::add);
    } catch (IOException e) {
      LOG.debug("cannot list {}: {}", BDI_DIR, e.getMessage());
    }
    return out;
  }
}
