package dev.styx.erofs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Assembles an {@link ErofsNode.Directory} tree from entries addressed by path ({@code "/"} for the
 * root, {@code "/a/b"} below it), as a manifest lists them: every directory must be added before
 * its children. Names and duplicate names are checked by {@link ErofsWriter}, which names the path.
 */
public final class ErofsTreeBuilder {
  /** Stands in (by identity) for a directory until its own entries are known. */
  private static final ErofsNode.Directory PENDING = new ErofsNode.Directory(List.of());

  private final Map<String, List<ErofsNode.Entry>> dirs = new HashMap<>();
  private final List<String> order = new ArrayList<>();

  /** A builder holding just the root directory. */
  public ErofsTreeBuilder() {
    dirs.put("/", new ArrayList<>());
    order.add("/");
  }

  /** Adds an empty directory at {@code path}; children may be added below it afterwards. */
  public ErofsTreeBuilder directory(String path) {
    if (path.equals("/")) {
      return this;
    }
    String[] pn = split(path);
    if (dirs.containsKey(path)) {
      throw new InvalidTreeException(path, "duplicate directory");
    }
    parent(pn[0], path).add(new ErofsNode.Entry(pn[1], PENDING));
    dirs.put(path, new ArrayList<>());
    order.add(path);
    return this;
  }

  /** Adds a file or symlink at {@code path}. */
  public ErofsTreeBuilder leaf(String path, ErofsNode node) {
    if (node instanceof ErofsNode.Directory) {
      throw new IllegalArgumentException("use directory(path) for directories: " + path);
    }
    String[] pn = split(path);
    if (dirs.containsKey(path)) {
      throw new InvalidTreeException(path, "duplicate entry");
    }
    parent(pn[0], path).add(new ErofsNode.Entry(pn[1], node));
    return this;
  }

  /** The tree; directories are built deepest first, without recursion. */
  public ErofsNode.Directory build() {
    Map<String, ErofsNode.Directory> built = new HashMap<>();
    for (int i = order.size() - 1; i >= 0; i--) {
      String path = order.get(i);
      List<ErofsNode.Entry> raw = dirs.get(path);
      List<ErofsNode.Entry> es = new ArrayList<>(raw.size());
      String prefix = path.equals("/") ? "/" : path + "/";
      for (ErofsNode.Entry e : raw) {
        es.add(
            e.node() == PENDING
                ? new ErofsNode.Entry(e.name(), built.remove(prefix + e.name()))
                : e);
      }
      built.put(path, new ErofsNode.Directory(es));
    }
    return built.get("/");
  }

  private List<ErofsNode.Entry> parent(String parent, String path) {
    List<ErofsNode.Entry> p = dirs.get(parent);
    if (p == null) {
      throw new InvalidTreeException(path, "parent directory " + parent + " not added before it");
    }
    return p;
  }

  /** {parent, name} of an absolute path. */
  private static String[] split(String path) {
    if (!path.startsWith("/") || path.endsWith("/") || path.contains("//")) {
      throw new InvalidTreeException(path, "not a normalized absolute path");
    }
    int slash = path.lastIndexOf('/');
    return new String[] {slash == 0 ? "/" : path.substring(0, slash), path.substring(slash + 1)};
  }
}
