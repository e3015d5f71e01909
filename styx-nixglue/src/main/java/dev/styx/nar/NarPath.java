package dev.styx.nar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A path inside a NAR: zero or more entry names, relative to the root ({@code ""}). Names are raw
 * bytes (the NAR format does not fix an encoding); they never contain '/' or NUL, so the path is
 * held as one '/'-joined byte string.
 */
public final class NarPath implements Comparable<NarPath> {
  /** The root of the NAR. */
  public static final NarPath ROOT = new NarPath(new byte[0], 0);

  private final byte[] bytes;
  private final int depth;

  private NarPath(byte[] bytes, int depth) {
    this.bytes = bytes;
    this.depth = depth;
  }

  /** Builds a path from UTF-8 names; for tests and callers that hold names as strings. */
  public static NarPath of(String... names) {
    NarPath p = ROOT;
    for (String n : names) {
      p = p.resolve(n.getBytes(StandardCharsets.UTF_8));
    }
    return p;
  }

  /** Parses a '/'-separated relative path ("" or "/" is the root). */
  public static NarPath parse(String path) {
    NarPath p = ROOT;
    for (String n : path.split("/")) {
      if (!n.isEmpty()) {
        p = p.resolve(n.getBytes(StandardCharsets.UTF_8));
      }
    }
    return p;
  }

  /** This path with one more component; the name must be a valid NAR entry name. */
  public NarPath resolve(byte[] name) {
    String bad = NarNames.problem(name);
    if (bad != null) {
      throw new IllegalArgumentException("invalid NAR entry name: " + bad);
    }
    if (depth == 0) {
      return new NarPath(name.clone(), 1);
    }
    byte[] b = Arrays.copyOf(bytes, bytes.length + 1 + name.length);
    b[bytes.length] = '/';
    System.arraycopy(name, 0, b, bytes.length + 1, name.length);
    return new NarPath(b, depth + 1);
  }

  /** True for the root. */
  public boolean isRoot() {
    return depth == 0;
  }

  /** Number of components (0 for the root). */
  public int depth() {
    return depth;
  }

  /** The last component's bytes; empty for the root. */
  public byte[] name() {
    int slash = lastSlash();
    return Arrays.copyOfRange(bytes, slash + 1, bytes.length);
  }

  /** The parent path; the root's parent is an error. */
  public NarPath parent() {
    if (depth == 0) {
      throw new IllegalStateException("the NAR root has no parent");
    }
    int slash = lastSlash();
    return slash < 0 ? ROOT : new NarPath(Arrays.copyOf(bytes, slash), depth - 1);
  }

  private int lastSlash() {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '/') {
        return i;
      }
    }
    return -1;
  }

  /** The components, decoded as UTF-8. */
  public List<String> components() {
    List<String> out = new ArrayList<>(depth);
    if (depth > 0) {
      for (String s : toString().split("/")) {
        out.add(s);
      }
    }
    return out;
  }

  /** The '/'-joined path bytes (empty for the root). */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** The '/'-joined path decoded as UTF-8 ("" for the root). */
  @Override
  public String toString() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NarPath p && Arrays.equals(p.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Byte order of the joined path, which is the NAR's depth-first order within one directory. */
  @Override
  public int compareTo(NarPath o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }
}
