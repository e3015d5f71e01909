package dev.styx.db;

import java.util.List;

/**
 * The settings {@code styx init} gives the daemon (stored in the {@code params} database).
 *
 * @param manifesterUrl base URL of the manifester ({@code POST <url>/manifest})
 * @param chunksUrl base URL of the chunk tree ({@code <url>/chunk/<hex>}); may be the manifester
 * @param trustedKeys public keys ({@code name:base64}) whose manifest signatures are accepted
 */
public record DaemonParams(String manifesterUrl, String chunksUrl, List<String> trustedKeys) {
  public DaemonParams {
    trustedKeys = List.copyOf(trustedKeys);
  }
}
