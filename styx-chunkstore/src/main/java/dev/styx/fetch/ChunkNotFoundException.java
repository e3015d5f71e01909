package dev.styx.fetch;

/** The chunk server answered 404/403 for a chunk: retrying the same server will not help. */
public final class ChunkNotFoundException extends FetchException {
  public ChunkNotFoundException(String message, int status) {
    super(message, status, null);
  }
}
