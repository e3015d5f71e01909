package dev.styx.narinfo;

import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.sig.NixSignature;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A {@code <hash>.narinfo} document (Nix manual, binary-cache narinfo; src/libstore/nar-info.cc).
 * Optional fields are null ({@code fileHash}, {@code deriver}, {@code system}, {@code ca}) or -1
 * ({@code fileSize}); unknown keys are kept, in order, in {@code extra}.
 *
 * @param compression as written; Nix's default when the line is absent is {@code bzip2}
 * @param references full store paths (the file holds base names)
 */
public record NarInfo(
    StorePath storePath,
    String url,
    String compression,
    NixHash fileHash,
    long fileSize,
    NixHash narHash,
    long narSize,
    List<StorePath> references,
    StorePath deriver,
    String system,
    List<NixSignature> sigs,
    String ca,
    List<Map.Entry<String, String>> extra) {

  private static final Set<String> KNOWN =
      Set.of(
          "StorePath",
          "URL",
          "Compression",
          "FileHash",
          "FileSize",
          "NarHash",
          "NarSize",
          "References",
          "Deriver",
          "System",
          "Sig",
          "CA");

  /** Validates required fields and copies the lists. */
  public NarInfo {
    if (storePath == null) {
      throw new NarInfoFormatException("narinfo has no StorePath");
    }
    if (url == null || url.isEmpty()) {
      throw new NarInfoFormatException("narinfo for " + storePath + " has no URL");
    }
    if (narHash == null) {
      throw new NarInfoFormatException("narinfo for " + storePath + " has no NarHash");
    }
    if (narSize <= 0) {
      throw new NarInfoFormatException("narinfo for " + storePath + " has no positive NarSize");
    }
    if (compression == null || compression.isEmpty()) {
      compression = "bzip2";
    }
    references = List.copyOf(references);
    sigs = List.copyOf(sigs);
    extra = extra.stream().map(e -> Map.entry(e.getKey(), e.getValue())).toList();
  }

  /** Parses a narinfo; unknown keys are preserved, duplicate known keys (except Sig) rejected. */
  public static NarInfo parse(String text) {
    StorePath storePath = null;
    String url = null;
    String compression = null;
    NixHash fileHash = null;
    long fileSize = -1;
    NixHash narHash = null;
    long narSize = -1;
    List<StorePath> refs = List.of();
    StorePath deriver = null;
    String system = null;
    List<NixSignature> sigs = new ArrayList<>();
    String ca = null;
    List<Map.Entry<String, String>> extra = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int lineNo = 0;
    for (String line : text.split("\n", -1)) {
      lineNo++;
      if (line.isEmpty()) {
        continue;
      }
      int colon = line.indexOf(": ");
      if (colon <= 0) {
        // Nix also accepts "Key:" with an empty value (e.g. "References:").
        if (line.endsWith(":") && line.indexOf(':') == line.length() - 1) {
          colon = line.length() - 1;
        } else {
          throw new NarInfoFormatException("narinfo line " + lineNo + " is not 'Key: value'");
        }
      }
      String key = line.substring(0, colon);
      String value = colon + 2 <= line.length() ? line.substring(colon + 2) : "";
      if (KNOWN.contains(key) && !key.equals("Sig") && !seen.add(key)) {
        throw new NarInfoFormatException("narinfo line " + lineNo + ": duplicate " + key);
      }
      try {
        switch (key) {
          case "StorePath" -> storePath = StorePath.parse(value);
          case "URL" -> url = value;
          case "Compression" -> compression = value;
          case "FileHash" -> fileHash = NixHash.parse(value);
          case "FileSize" -> fileSize = parseSize(value);
          case "NarHash" -> narHash = NixHash.parse(value);
          case "NarSize" -> narSize = parseSize(value);
          case "References" ->
              refs =
                  value.isBlank()
                      ? List.of()
                      : java.util.Arrays.stream(value.trim().split(" +"))
                          .map(StorePath::parseBaseName)
                          .toList();
          case "Deriver" ->
              deriver = value.equals("unknown-deriver") ? null : StorePath.parseBaseName(value);
          case "System" -> system = value;
          case "Sig" -> sigs.add(NixSignature.parse(value));
          case "CA" -> ca = value;
          default -> extra.add(Map.entry(key, value));
        }
      } catch (IllegalArgumentException e) {
        throw new NarInfoFormatException(
            "narinfo line " + lineNo + " (" + key + "): " + e.getMessage(), e);
      }
    }
    return new NarInfo(
        storePath,
        url,
        compression,
        fileHash,
        fileSize,
        narHash,
        narSize,
        refs,
        deriver,
        system,
        sigs,
        ca,
        extra);
  }

  private static long parseSize(String v) {
    try {
      long n = Long.parseLong(v);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + v + "' is not a size in bytes");
    }
  }

  /** The text Nix would write (its field order), then the unknown keys in their order. */
  public String serialize() {
    StringBuilder b = new StringBuilder();
    line(b, "StorePath", storePath.toString());
    line(b, "URL", url);
    line(b, "Compression", compression);
    if (fileHash != null) {
      line(b, "FileHash", fileHash.toNix32String());
    }
    if (fileSize >= 0) {
      line(b, "FileSize", Long.toString(fileSize));
    }
    line(b, "NarHash", narHash.toNix32String());
    line(b, "NarSize", Long.toString(narSize));
    line(
        b,
        "References",
        references.stream().map(StorePath::baseName).collect(Collectors.joining(" ")));
    if (deriver != null) {
      line(b, "Deriver", deriver.baseName());
    }
    if (system != null) {
      line(b, "System", system);
    }
    for (NixSignature s : sigs) {
      line(b, "Sig", s.toString());
    }
    if (ca != null) {
      line(b, "CA", ca);
    }
    for (Map.Entry<String, String> e : extra) {
      line(b, e.getKey(), e.getValue());
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String k, String v) {
    b.append(k).append(": ").append(v).append('\n');
  }

  /**
   * The signed message {@code 1;<storePath>;<narHash>;<narSize>;<refs>} (src/libstore/path-info.cc
   * fingerprint): NarHash as {@code sha256:<nix32>}, references as comma-joined full paths.
   */
  public String fingerprint() {
    if (narHash.algorithm() != NixHash.Algorithm.SHA256) {
      throw new IllegalStateException("fingerprint needs a sha256 NarHash, not " + narHash);
    }
    return "1;"
        + storePath
        + ";"
        + narHash.toNix32String()
        + ";"
        + narSize
        + ";"
        + references.stream().map(StorePath::toString).collect(Collectors.joining(","));
  }

  /** True if at least one Sig is valid under a trusted key. */
  public boolean isSignedBy(NixKeyring trusted) {
    return trusted.verifiesAny(fingerprint(), sigs);
  }

  /** This narinfo with a signature by {@code key} added (replacing one by the same key name). */
  public NarInfo withSignature(NixSecretKey key) {
    List<NixSignature> s = new ArrayList<>(sigs);
    s.removeIf(x -> x.keyName().equals(key.name()));
    s.add(key.sign(fingerprint()));
    return new NarInfo(
        storePath,
        url,
        compression,
        fileHash,
        fileSize,
        narHash,
        narSize,
        references,
        deriver,
        system,
        s,
        ca,
        extra);
  }
}
