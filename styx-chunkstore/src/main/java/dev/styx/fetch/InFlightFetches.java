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
 *
 * <p>A claim has two stages: <em>written</em> (the verified bytes are in the slab, readable through
 * the page cache) and <em>committed</em> (durable and recorded present). A caller that only needs
 * to read the data ({@link Wait#WRITTEN}: a kernel read waiting on a lazy fill) returns at the
 * first stage and leaves its commit to run in the background, so readers do not queue behind
 * fdatasync and database commits; a caller that needs durability ({@link Wait#COMMITTED}: an eager
 * mount) waits for the second. The claim is held until the commit ends either way.
 */
public final class InFlightFetches {
  /** What {@link #ensure} waits for before it returns. */
  public enum Wait {
    /** The chunks are written and readable; their commit may still be running. */
    WRITTEN,
    /** The chunks are durable and recorded present. */
    COMMITTED
  }

  /** One caller's claim on the chunks it fetches. */
  private static final class Claim {
    final CompletableFuture<Void> written = new CompletableFuture<>();
    final CompletableFuture<Void> committed = new CompletableFuture<>();

    CompletableFuture<Void> stage(Wait w) {
      return w == Wait.WRITTEN ? written : committed;
    }

    void fail(Throwable e) {
      written.completeExceptionally(e);
      committed.completeExceptionally(e);
    }
  }

  private final ConcurrentHashMap<ChunkDigest, Claim> claims = new ConcurrentHashMap<>();

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

  /** Whether a fetch of {@code d} is under way (claimed and not yet committed). */
  public boolean claimed(ChunkDigest d) {
    return claims.containsKey(d);
  }

  /** Number of chunks being fetched right now. */
  public int inFlight() {
    return claims.size();
  }

  /**
   * Ensures every chunk of {@code wanted} is present: fetches the unclaimed missing ones from
   * {@code source} into {@code sink}, commits them, and waits for the ones other callers are
   * fetching, all until {@link Wait#COMMITTED}. Returns the number of chunks this call fetched.
   */
  public int ensure(
      List<ChunkRef> wanted,
      Presence presence,
      ChunkSource source,
      ChunkSink sink,
      Commit commit,
      Instant deadline)
      throws IOException {
    return ensure(wanted, presence, source, sink, commit, deadline, Wait.COMMITTED);
  }

  /**
   * As {@link #ensure(List, Presence, ChunkSource, ChunkSink, Commit, Instant)}, returning once
   * every wanted chunk reached {@code wait}. With {@link Wait#WRITTEN} this call's own commit runs
   * on a virtual thread after it returns; its failure only leaves the chunks unrecorded (a later
   * read fetches them again), never makes anyone read unverified bytes.
   */
  public int ensure(
      List<ChunkRef> wanted,
      Presence presence,
      ChunkSource source,
      ChunkSink sink,
      Commit commit,
      Instant deadline,
      Wait wait)
      throws IOException {
    Map<ChunkDigest, ChunkRef> mine = new LinkedHashMap<>();
    Map<ChunkDigest, Claim> theirs = new LinkedHashMap<>();
    Claim claim = new Claim();
    for (ChunkRef r : wanted) {
      if (mine.containsKey(r.digest()) || theirs.containsKey(r.digest())) {
        continue;
      }
      Claim other = claims.putIfAbsent(r.digest(), claim);
      if (other == null) {
        mine.put(r.digest(), r);
      } else {
        theirs.put(r.digest(), other);
      }
    }
    int fetched = 0;
    boolean background = false;
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
      fetched = stored.size();
      List<ChunkDigest> toCommit = List.copyOf(stored);
      if (failure == null && wait == Wait.WRITTEN && !toCommit.isEmpty()) {
        claim.written.complete(null);
        background = true;
        Thread.ofVirtual()
            .name("commit")
            .start(() -> commitInBackground(claim, mine, commit, toCommit));
      } else {
        // Chunks stored before a failure are committed anyway: they are verified and written.
        if (!toCommit.isEmpty()) {
          commit.commit(toCommit);
        }
        if (failure != null) {
          throw failure;
        }
        claim.written.complete(null);
        claim.committed.complete(null);
      }
    } catch (IOException | RuntimeException | Error e) {
      claim.fail(e);
      throw e;
    } finally {
      if (!background) {
        release(mine, claim);
      }
    }
    for (Map.Entry<ChunkDigest, Claim> e : theirs.entrySet()) {
      await(e.getKey(), e.getValue().stage(wait), deadline);
    }
    return fetched;
  }

  private void commitInBackground(
      Claim claim, Map<ChunkDigest, ChunkRef> mine, Commit commit, List<ChunkDigest> stored) {
    try {
      commit.commit(stored);
      claim.committed.complete(null);
    } catch (Throwable e) {
      claim.committed.completeExceptionally(e);
    } finally {
      release(mine, claim);
    }
  }

  private void release(Map<ChunkDigest, ChunkRef> mine, Claim claim) {
    for (ChunkDigest d : mine.keySet()) {
      claims.remove(d, claim);
    }
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
