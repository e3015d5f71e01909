package dev.styx.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** The manifester's counters, rendered as Prometheus text exposition format 0.0.4. */
public final class ServerMetrics {
  private final ConcurrentHashMap<String, LongAdder> requests = new ConcurrentHashMap<>();
  final LongAdder bytesIn = new LongAdder();
  final LongAdder bytesOut = new LongAdder();
  final LongAdder upstreamBytes = new LongAdder();
  final LongAdder ingests = new LongAdder();
  final LongAdder ingestFailures = new LongAdder();
  final LongAdder ingestNarBytes = new LongAdder();
  final LongAdder ingestNanos = new LongAdder();
  final LongAdder chunksNew = new LongAdder();
  final LongAdder chunksExisting = new LongAdder();
  final LongAdder chunkBytesNew = new LongAdder();
  final LongAdder chunkBytesStored = new LongAdder();
  final LongAdder manifestCacheHits = new LongAdder();
  final LongAdder manifestsChunked = new LongAdder();
  final LongAdder manifestsRebuilt = new LongAdder();
  final LongAdder manifestCacheMisses = new LongAdder();
  final LongAdder coalesced = new LongAdder();
  final LongAdder chunksServed = new LongAdder();
  final LongAdder chunksMissing = new LongAdder();
  final LongAdder diffBaseBytes = new LongAdder();
  final LongAdder diffTargetBytes = new LongAdder();
  final LongAdder diffOutBytes = new LongAdder();

  /** Counts one finished request. */
  public void request(String route, String method, int status) {
    requests
        .computeIfAbsent(route + "\u0000" + method + "\u0000" + status, k -> new LongAdder())
        .increment();
  }

  /** Completed ingests (one per store path built, however many requests asked for it). */
  public long ingests() {
    return ingests.sum();
  }

  public long manifestCacheHits() {
    return manifestCacheHits.sum();
  }

  public long coalesced() {
    return coalesced.sum();
  }

  public long chunksNew() {
    return chunksNew.sum();
  }

  /** Prometheus text format. */
  public String render() {
    StringBuilder sb = new StringBuilder(2048);
    sb.append("# HELP styx_http_requests_total HTTP requests by route, method and status.\n");
    sb.append("# TYPE styx_http_requests_total counter\n");
    Map<String, LongAdder> sorted = new TreeMap<>(requests);
    for (Map.Entry<String, LongAdder> e : sorted.entrySet()) {
      String[] k = e.getKey().split("\u0000", -1);
      sb.append("styx_http_requests_total{route=\"")
          .append(k[0])
          .append("\",method=\"")
          .append(k[1])
          .append("\",status=\"")
          .append(k[2])
          .append("\"} ")
          .append(e.getValue().sum())
          .append('\n');
    }
    counter(sb, "styx_http_request_bytes_total", "HTTP request body bytes received.", bytesIn);
    counter(sb, "styx_http_response_bytes_total", "HTTP response body bytes sent.", bytesOut);
    counter(
        sb,
        "styx_upstream_bytes_total",
        "Bytes read from upstream binary caches (NAR files as stored).",
        upstreamBytes);
    counter(
        sb,
        "styx_ingests_total",
        "Store paths ingested (NAR fetched, chunked, manifest signed).",
        ingests);
    counter(sb, "styx_ingest_failures_total", "Ingests that failed.", ingestFailures);
    counter(sb, "styx_ingest_nar_bytes_total", "Uncompressed NAR bytes ingested.", ingestNarBytes);
    sb.append("# HELP styx_ingest_seconds_total Wall time spent ingesting.\n");
    sb.append("# TYPE styx_ingest_seconds_total counter\n");
    sb.append("styx_ingest_seconds_total ").append(ingestNanos.sum() / 1e9).append('\n');
    counter(sb, "styx_chunks_written_total", "New chunks written to the store.", chunksNew);
    counter(
        sb,
        "styx_chunks_existing_total",
        "Chunks cut during ingest that the store already had.",
        chunksExisting);
    counter(
        sb, "styx_chunk_bytes_written_total", "Uncompressed bytes of new chunks.", chunkBytesNew);
    counter(
        sb, "styx_chunk_bytes_stored_total", "Compressed bytes of new chunks.", chunkBytesStored);
    counter(
        sb,
        "styx_manifest_cache_hits_total",
        "Manifest requests answered from the manifest cache.",
        manifestCacheHits);
    counter(
        sb,
        "styx_manifests_chunked_total",
        "Manifests stored as chunks behind a small envelope (encoding over 64 KiB).",
        manifestsChunked);
    counter(
        sb,
        "styx_manifests_rebuilt_total",
        "Cached manifests ingested again: unreadable, or naming chunks missing from the store.",
        manifestsRebuilt);
    counter(
        sb,
        "styx_manifest_cache_misses_total",
        "Manifest requests that needed an ingest.",
        manifestCacheMisses);
    counter(
        sb,
        "styx_manifest_coalesced_total",
        "Manifest requests that joined an ingest already running.",
        coalesced);
    counter(
        sb,
        "styx_chunks_served_total",
        "Chunks served by /chunk, /chunks and /chunkdiff.",
        chunksServed);
    counter(sb, "styx_chunks_missing_total", "Chunk lookups that found nothing.", chunksMissing);
    counter(sb, "styx_diff_base_bytes_total", "Base bytes used by /chunkdiff.", diffBaseBytes);
    counter(
        sb,
        "styx_diff_target_bytes_total",
        "Target bytes encoded by /chunks and /chunkdiff.",
        diffTargetBytes);
    counter(
        sb,
        "styx_diff_response_bytes_total",
        "Encoded bytes sent by /chunks and /chunkdiff.",
        diffOutBytes);
    return sb.toString();
  }

  private static void counter(StringBuilder sb, String name, String help, LongAdder v) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(" counter\n");
    sb.append(name).append(' ').append(v.sum()).append('\n');
  }
}
