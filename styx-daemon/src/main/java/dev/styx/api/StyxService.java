package dev.styx.api;

import dev.styx.db.DaemonParams;
import java.io.IOException;

/** What the API routes call: the daemon's operations, each blocking until done. */
public interface StyxService {

  /** Stores the manifester/chunk URLs and trusted keys ({@code /init}). */
  void init(DaemonParams params) throws IOException;

  /** Mounts a store path; returns when it is mounted or throws why not. */
  void mount(MountRequest request) throws IOException;

  /** Unmounts a store path given as {@code <hash>-<name>} or {@code <hash>}. */
  void umount(String storePath) throws IOException;

  /** The daemon's state as a JSON-serializable object ({@code /debug}, {@code styx status}). */
  Object debug() throws IOException;

  /** Prometheus text exposition ({@code /metrics}). */
  String metrics() throws IOException;

  /**
   * Fetches every chunk under {@code path} (a mounted store path, its mount point, or a path below
   * either) ahead of use, or with {@code dryRun} only counts what is missing ({@code /prefetch}).
   * Returns a JSON-serializable summary.
   */
  default Object prefetch(String path, boolean dryRun) throws IOException {
    throw new ApiError(501, "prefetch is not supported by this daemon");
  }
}
