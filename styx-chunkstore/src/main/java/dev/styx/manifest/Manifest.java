package dev.styx.manifest;

import dev.styx.nix.NixHash;
import dev.styx.nix.StorePath;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * What a client needs to build a store path without its NAR (ARCHITECTURE.md "Formats"): the store
 * path, its NarHash/NarSize/references as in the upstream narinfo, and every entry of the NAR in
 * NAR order (pre-order, siblings sorted by name bytes).
 *
 * @param storePath full store path, {@code /nix/store/<32 nix32>-<name>}
 * @param narHash the narinfo's {@code NarHash}, {@code sha256:<52 nix32>}
 * @param narSize the narinfo's {@code NarSize}
 * @param references the narinfo's {@code References} (basenames), in narinfo order
 * @param entries the tree, root first
 */
public record Manifest(
    String storePath,
    String narHash,
    long narSize,
    List<String> references,
    List<ManifestEntry> entries) {

  public Manifest {
    StorePath sp;
    try {
      sp = StorePath.parse(storePath);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad store path: " + e.getMessage(), e);
    }
    if (!sp.toString().equals(storePath)) {
      throw new IllegalArgumentException(
          "store path not canonical: " + ManifestPaths.quote(storePath));
    }
    NixHash h;
    try {
      h = NixHash.parse(narHash);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad NarHash: " + e.getMessage(), e);
    }
    if (h.algorithm() != NixHash.Algorithm.SHA256 || !h.toNix32String().equals(narHash)) {
      throw new IllegalArgumentException(
          "NarHash must be sha256:<nix32>, got " + ManifestPaths.quote(narHash));
    }
    if (narSize <= 0) {
      throw new IllegalArgumentException("bad NarSize " + narSize);
    }
    for (String r : references) {
      if (!StorePath.parseBaseName(r).baseName().equals(r)) {
        throw new IllegalArgumentException("bad reference: " + ManifestPaths.quote(r));
      }
    }
    references = List.copyOf(references);
    entries = List.copyOf(entries);
    checkNarOrder(entries);
  }

  /** The store path, parsed. */
  public StorePath parsedStorePath() {
    return StorePath.parse(storePath);
  }

  /** The NAR hash, parsed. */
  public NixHash parsedNarHash() {
    return NixHash.parse(narHash);
  }

  /** The 32-character hash part of the store path. */
  public String hashPart() {
    return storePath.substring(11, 43);
  }

  /** The basename {@code <hash>-<name>} of the store path. */
  public String baseName() {
    return storePath.substring(11);
  }

  /** Total bytes of all regular files (inline and chunked). */
  public long fileBytes() {
    long n = 0;
    for (ManifestEntry e : entries) {
      n +=
          switch (e) {
            case ManifestEntry.InlineFile f -> f.size();
            case ManifestEntry.ChunkedFile f -> f.size();
            default -> 0;
          };
    }
    return n;
  }

  /** Number of chunk digests over all chunked files (with repeats). */
  public long chunkCount() {
    long n = 0;
    for (ManifestEntry e : entries) {
      if (e instanceof ManifestEntry.ChunkedFile f) {
        n += f.digests().size();
      }
    }
    return n;
  }

  /**
   * Checks that the entries form one tree in NAR order: root {@code "/"} first, every other entry
   * directly under the innermost open directory, siblings strictly increasing by name bytes.
   */
  private static void checkNarOrder(List<ManifestEntry> entries) {
    if (entries.isEmpty()) {
      throw new IllegalArgumentException("manifest has no entries");
    }
    if (!entries.getFirst().path().equals("/")) {
      throw new IllegalArgumentException("first entry must be the root \"/\"");
    }
    if (!(entries.getFirst() instanceof ManifestEntry.Directory) && entries.size() > 1) {
      throw new IllegalArgumentException("root is not a directory but has children");
    }
    // Stack of open directories with the last child name seen in each.
    Deque<String[]> open = new ArrayDeque<>();
    open.push(new String[] {"/", null});
    for (int i = 1; i < entries.size(); i++) {
      ManifestEntry e = entries.get(i);
      String path = e.path();
      if (path.equals("/")) {
        throw new IllegalArgumentException("second root entry at index " + i);
      }
      String parent = ManifestPaths.parent(path);
      while (!open.isEmpty() && !open.peek()[0].equals(parent)) {
        open.pop();
      }
      if (open.isEmpty()) {
        throw new IllegalArgumentException(
            "entry "
                + ManifestPaths.quote(path)
                + " is not inside the directory before it (not NAR order)");
      }
      String[] dir = open.peek();
      String name = ManifestPaths.name(path);
      if (dir[1] != null && ManifestPaths.compareNames(dir[1], name) >= 0) {
        throw new IllegalArgumentException(
            "entry " + ManifestPaths.quote(path) + " out of NAR order or duplicate");
      }
      dir[1] = name;
      if (e instanceof ManifestEntry.Directory) {
        open.push(new String[] {path, null});
      }
    }
  }
}
