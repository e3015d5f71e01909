package dev.styx.fetch;

import java.util.concurrent.atomic.LongAdder;

/** Counters of one fetch client, for {@code /metrics} and {@code styx status}. */
public final class FetchStats {
  public final LongAdder singleRequests = new LongAdder();
  public final LongAdder batchRequests = new LongAdder();
  public final LongAdder retries = new LongAdder();
  public final LongAdder errors = new LongAdder();
  public final LongAdder digestMismatches = new LongAdder();
  public final LongAdder chunks = new LongAdder();

  /** Chunk bytes delivered (uncompressed). */
  public final LongAdder bytes = new LongAdder();

  /** Response body bytes received (compressed). */
  public final LongAdder wireBytes = new LongAdder();
}
