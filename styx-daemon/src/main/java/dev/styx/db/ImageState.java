package dev.styx.db;

import java.util.EnumSet;
import java.util.Set;

/**
 * Lifecycle of a store path image. Every change goes through {@link #canBecome}, so the database
 * never records an impossible history (e.g. MOUNTED without FETCHING).
 */
public enum ImageState {
  /** A mount was asked for; nothing fetched yet. */
  REQUESTED,
  /** Manifest verified, image built, chunks being fetched into the slabs. */
  FETCHING,
  /** Mounted at its mount point. */
  MOUNTED,
  /** The last mount attempt failed; {@code error} says why. Nothing is mounted. */
  FAILED,
  /** An unmount is in progress. */
  UNMOUNTING,
  /** Unmounted on request; image and chunks stay for a later mount. */
  UNMOUNTED;

  /** Whether a record in this state may move to {@code next}. */
  public boolean canBecome(ImageState next) {
    return allowed().contains(next);
  }

  private Set<ImageState> allowed() {
    return switch (this) {
      case REQUESTED -> EnumSet.of(FETCHING, FAILED);
      // FETCHING -> FETCHING: a restart re-enters it when remounting.
      case FETCHING -> EnumSet.of(MOUNTED, FAILED);
      case MOUNTED -> EnumSet.of(UNMOUNTING, FETCHING, FAILED);
      case FAILED, UNMOUNTED -> EnumSet.of(REQUESTED);
      case UNMOUNTING -> EnumSet.of(UNMOUNTED, MOUNTED, FAILED);
    };
  }

  /** States a new mount request may start from (besides "no record"). */
  public boolean acceptsMountRequest() {
    return this == FAILED || this == UNMOUNTED;
  }
}
