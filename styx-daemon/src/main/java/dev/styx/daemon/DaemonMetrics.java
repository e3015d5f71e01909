package dev.styx.daemon;

import java.util.concurrent.atomic.LongAdder;

/** The daemon's own counters (fetch counters live in {@code FetchStats}). */
public final class DaemonMetrics {
  public final LongAdder mounts = new LongAdder();
  public final LongAdder mountFailures = new LongAdder();
  public final LongAdder umounts = new LongAdder();
  public final LongAdder mountMillis = new LongAdder();
  public final LongAdder manifestFetches = new LongAdder();
  public final LongAdder manifestRejects = new LongAdder();

  /** Chunks of large manifests (stored as chunks by the manifester) fetched to join them. */
  public final LongAdder manifestChunks = new LongAdder();

  public final LongAdder fetchedBytes = new LongAdder();
}
