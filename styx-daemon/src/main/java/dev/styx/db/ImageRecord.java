package dev.styx.db;

import java.util.List;

/**
 * What the daemon knows about one store path image (the {@code images} database, JSON values).
 *
 * @param storePath {@code <hash>-<name>}
 * @param upstream the binary cache the manifest was made from
 * @param state lifecycle state
 * @param mountPoint where it is (or is to be) mounted
 * @param backend the backend that mounted it ("eager", "fanotify", ...)
 * @param narSize NAR size as given by the caller or the manifest
 * @param error why the last attempt failed, or null
 * @param kind root type: "directory", "file" or "symlink"
 * @param slabs slab ids of the image's device table, in order
 * @param chunks distinct chunks the image references
 * @param chunkBytes bytes of those chunks
 * @param fetchedBytes chunk bytes this image's mounts fetched (chunks shared with earlier images
 *     cost nothing)
 * @param mountMillis duration of the last successful mount
 * @param updatedMillis wall clock of the last change
 */
public record ImageRecord(
    String storePath,
    String upstream,
    ImageState state,
    String mountPoint,
    String backend,
    long narSize,
    String error,
    String kind,
    List<Integer> slabs,
    long chunks,
    long chunkBytes,
    long fetchedBytes,
    long mountMillis,
    long updatedMillis) {

  public ImageRecord {
    slabs = slabs == null ? List.of() : List.copyOf(slabs);
  }

  /** A fresh record for a mount request. */
  public static ImageRecord requested(
      String storePath, String upstream, String mountPoint, String backend, long narSize) {
    return new ImageRecord(
        storePath,
        upstream,
        ImageState.REQUESTED,
        mountPoint,
        backend,
        narSize,
        null,
        null,
        List.of(),
        0,
        0,
        0,
        0,
        System.currentTimeMillis());
  }

  /** This record moved to {@code next}, with the error set (null clears it). */
  public ImageRecord to(ImageState next, String error) {
    if (!state.canBecome(next)) {
      throw new IllegalStateException(
          storePath + ": cannot go from " + state + " to " + next + " (state machine)");
    }
    return new ImageRecord(
        storePath,
        upstream,
        next,
        mountPoint,
        backend,
        narSize,
        error,
        kind,
        slabs,
        chunks,
        chunkBytes,
        fetchedBytes,
        mountMillis,
        System.currentTimeMillis());
  }

  public ImageRecord withImage(String kind, List<Integer> slabs, long chunks, long chunkBytes) {
    return new ImageRecord(
        storePath,
        upstream,
        state,
        mountPoint,
        backend,
        narSize,
        error,
        kind,
        slabs,
        chunks,
        chunkBytes,
        fetchedBytes,
        mountMillis,
        updatedMillis);
  }

  public ImageRecord withFetch(long fetchedBytes, long mountMillis) {
    return new ImageRecord(
        storePath,
        upstream,
        state,
        mountPoint,
        backend,
        narSize,
        error,
        kind,
        slabs,
        chunks,
        chunkBytes,
        fetchedBytes,
        mountMillis,
        updatedMillis);
  }

  public ImageRecord withRequest(String upstream, String mountPoint, String backend, long narSize) {
    return new ImageRecord(
        storePath,
        upstream,
        state,
        mountPoint,
        backend,
        narSize,
        error,
        kind,
        slabs,
        chunks,
        chunkBytes,
        fetchedBytes,
        mountMillis,
        updatedMillis);
  }
}
