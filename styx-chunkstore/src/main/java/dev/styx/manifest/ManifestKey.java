package dev.styx.manifest;

import dev.styx.chunk.ChunkDigest;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Names of manifests in the manifest cache ({@code DIR/manifest/<key>}). The key is {@code <store
 * path hash part>-<first 16 hex of SHA-256(normalized upstream URL)>}: readable, one file per
 * (upstream, store path), and computable by any client without asking the manifester.
 */
public final class ManifestKey {
  private ManifestKey() {}

  private static final Pattern HASH_PART = Pattern.compile("[0-9abcdfghijklmnpqrsvwxyz]{32}");

  /**
   * Canonical upstream URL: absolute http(s) or file URL, without query, fragment or trailing
   * slashes (Nix strips the trailing slash of substituter URLs too).
   */
  public static String normalizeUpstream(String upstream) {
    URI u;
    try {
      u = new URI(upstream.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "bad upstream URL " + ManifestPaths.quote(upstream) + ": " + e.getReason());
    }
    String scheme = u.getScheme();
    if (scheme == null
        || !(scheme.equals("http") || scheme.equals("https") || scheme.equals("file"))) {
      throw new IllegalArgumentException(
          "upstream must be an http://, https:// or file:// URL: " + ManifestPaths.quote(upstream));
    }
    if (u.getRawQuery() != null || u.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "upstream URL must not have a query or fragment: " + ManifestPaths.quote(upstream));
    }
    if (!scheme.equals("file") && (u.getHost() == null || u.getHost().isEmpty())) {
      throw new IllegalArgumentException(
          "upstream URL has no host: " + ManifestPaths.quote(upstream));
    }
    String s = u.toString();
    while (s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }

  /** The cache key of the manifest of {@code storePathOrHash} built from {@code upstream}. */
  public static String of(String upstream, String storePathOrHash) {
    String norm = normalizeUpstream(upstream);
    String hash = hashPart(storePathOrHash);
    var md = ChunkDigest.sha256();
    byte[] h = md.digest(norm.getBytes(StandardCharsets.UTF_8));
    return hash + "-" + HexFormat.of().formatHex(h, 0, 8);
  }

  /**
   * The 32-char hash part of {@code /nix/store/<hash>-<name>}, {@code <hash>-<name>} or {@code
   * <hash>}.
   */
  public static String hashPart(String storePathOrHash) {
    String s =
        storePathOrHash.startsWith("/nix/store/") ? storePathOrHash.substring(11) : storePathOrHash;
    String h = s.length() >= 32 ? s.substring(0, 32) : s;
    if (!HASH_PART.matcher(h).matches() || (s.length() > 32 && s.charAt(32) != '-')) {
      throw new IllegalArgumentException(
          "not a store path or hash part: " + ManifestPaths.quote(storePathOrHash));
    }
    return h;
  }
}
