package dev.styx.kernel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The eager backend (kernel 6.12+, no extra config): the daemon fetches every chunk of a store path
 * into the slabs before mounting, then mounts the image file-backed with the slabs as {@code
 * device=} files. Reads never reach the daemon, so there is nothing to serve after the mount.
 */
public final class EagerBackend implements Backend {
  private volatile boolean started;

  @Override
  public String name() {
    return "eager";
  }

  @Override
  public boolean lazy() {
    return false;
  }

  @Override
  public boolean mountsSlabFiles() {
    return true;
  }

  @Override
  public void start(SlabFiller filler) {
    // Eager mounts never ask for data: everything is present before mount().
    started = true;
  }

  @Override
  public void attachSlab(Slab slab) {
    // Nothing to arm: the kernel reads slab files directly through the page cache.
  }

  @Override
  public void mount(Path image, List<Slab> slabs, Path target) throws IOException {
    if (!started) {
      throw new IllegalStateException("eager backend not started");
    }
    FileBackedMount.mount(image, slabs, target);
  }

  @Override
  public void unmount(Path target) throws IOException {
    FileBackedMount.unmount(target);
  }

  @Override
  public void close() {
    // Mounts outlive the daemon on purpose: they hold their files open in the kernel.
    started = false;
  }
}
