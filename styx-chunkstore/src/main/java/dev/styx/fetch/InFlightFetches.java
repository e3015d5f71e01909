package dev.styx.fetch;

import dev.styx.chunk.ChunkDigest;
import dev.styx.slab.ChunkRef;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One fetch per chunk however many callers want it at once. A caller claims the chunks nobody is
 * fetching, fetches and stores them, commits them (durable, recorded present) and only then
 * releases its claims; callers wanting a claimed chunk wait for that. A chunk is therefore either
 * claimed or, once unclaimed, visible as present, so no second fetch can start in between.
 */
public final class InFlightFetches {
  private final ConcurrentHashMap<ChunkDigest, CompletableFuture<Void>> claims =
      new ConcurrentHashMap<>();

  /** Whether a chunk is already present (checked again after claiming, under the claim). */
  @FunctionalInterface
  public interface Presence {
    boolean present(ChunkDigest digest) throws IOException;
  }

  /** Makes stored chunks durable and records them present; called before claims are released. */
  @FunctionalInterface
  public interface Commit {
    void commit(Collection<ChunkDigest> stored) throws IOException;
  }

  /** Number of chunks being fetched right now. */
  public int inFlight() {
    return claims.size();
  }

  /**
   * Ensures every chunk of {@code wanted} is present: fetches the unclaimed missing ones from
   * {@code source} into {@code sink}, commits them, and waits for the ones other callers are
   * fetching. Returns the number of chunks this call fetched itself.
   */
  public int ensure(
      List<ChunkRef> wanted,
      Presence presence,
      ChunkSource source,
      ChunkSink sink,
      Commit commit,
      Instant deadline)
      throws IOException {
    Map<ChunkDigest, ChunkRef> mine = new LinkedHashMap<>();
    Map<ChunkDigest, CompletableFuture<Void>> theirs = new LinkedHashMap<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    for (ChunkRef r : wanted) {
      if (mine.containsKey(r.digest()) || theirs.containsKey(r.digest())) {
        continue;
      }
      CompletableFuture<Void> other = claims.putIfAbsent(r.digest(), done);
      if (other == null) {
        mine.put(r.digest(), r);
      } else {
        theirs.put(r.digest(), other);
      }
    }
    int fetched = 0;
    try {
      List<ChunkRef> todo = new ArrayList<>(mine.size());
      for (ChunkRef r : mine.values()) {
        if (!presence.present(r.digest())) {
          todo.add(r);
        }
      }
      List<ChunkDigest> stored = java.util.Collections.synchronizedList(new ArrayList<>());
      IOException failure = null;
      if (!todo.isEmpty()) {
        try {
          source.fetch(
              todo,
              c -> {
                sink.accept(c);
                stored.add(c.digest());
              },
              deadline);
        } catch (IOException e) {
          failure = e;
        }
      }
      // Chunks stored before a failure are committed anyway: they are verified and written.
      if (!stored.isEmpty()) {
        commit.commit(List.copyOf(stored));
      }
      fetched = stored.size();
      if (failure != null) {
        throw failure;
      }
      done.complete(null);
    } catch (IOException | RuntimeException | Error e) {
      done.completeExceptionally(e);
      throw e;
    } finally {
      for (ChunkDigest d : mine.keySet()) {
        claims.remove(d, done);
      }
    }
    for (Map.Entry<ChunkDigest, CompletableFuture<Void>> e : theirs.entrySet()) {
      await(e.getKey(), e.getValue(), deadline);
    }
    return fetched;
  }

  private static void await(ChunkDigest d, CompletableFuture<Void> f, Instant deadline)
      throws IOException {
    try {
      long ms = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
      f.get(ms, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw new FetchException(
          "chunk " + d.hex() + " failed in a concurrent fetch: " + c.getMessage(), 0, c);
    } catch (TimeoutException e) {
      throw new FetchException(
          "chunk " + d.hex() + ": timed out waiting for a concurrent fetch", 0, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for chunk " + d.hex());
    }
  }
}
