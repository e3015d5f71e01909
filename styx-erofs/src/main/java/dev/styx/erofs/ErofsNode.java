package dev.styx.erofs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The tree an image holds, as immutable values: directories, regular files (inline bytes or chunks
 * on slab devices) and symlinks. Ownership, modes and times are not part of the model: every image
 * is a Nix store tree (root-owned, 0444/0555 files, 0555 dirs, 0777 symlinks, mtime 1).
 */
public sealed interface ErofsNode
    permits ErofsNode.Directory, ErofsNode.InlineFile, ErofsNode.ChunkedFile, ErofsNode.Symlink {

  /**
   * Byte order of the names' UTF-8 encodings, which is code point order; the kernel binary-searches
   * directories in this order ({@code erofs_namei}).
   */
  Comparator<String> NAME_ORDER = ErofsNode::compareNames;

  /** Compares two names by code point, i.e. by their UTF-8 bytes, without encoding them. */
  static int compareNames(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        // UTF-16 order differs from code point order only where surrogates meet U+E000..U+FFFF.
        if (Character.isSurrogate(x) != Character.isSurrogate(y)) {
          return Character.isSurrogate(x) ? 1 : -1;
        }
        return x - y;
      }
    }
    return a.length() - b.length();
  }

  /** One named child of a directory. */
  record Entry(String name, ErofsNode node) {
    public Entry {
      if (name == null || node == null) {
        throw new NullPointerException("entry name and node are required");
      }
    }

    @Override
    public String toString() {
      return name + "=" + node;
    }
  }

  /**
   * A directory; its entries are kept sorted by {@link #NAME_ORDER}. Names are checked by the
   * writer (which reports the full path), not here.
   */
  record Directory(List<Entry> entries) implements ErofsNode {
    public Directory {
      Entry[] a = entries.toArray(new Entry[0]);
      boolean sorted = true;
      for (int i = 1; i < a.length && sorted; i++) {
        sorted = compareNames(a[i - 1].name(), a[i].name()) < 0;
      }
      if (!sorted) {
        Arrays.sort(a, (x, y) -> compareNames(x.name(), y.name()));
      }
      entries = List.of(a);
    }

    /**
     * Structural equality without recursion, so trees nested thousands of levels deep (which the
     * reader and writer accept) compare without overflowing the stack.
     */
    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Directory other)) {
        return false;
      }
      ArrayDeque<Directory> left = new ArrayDeque<>();
      ArrayDeque<Directory> right = new ArrayDeque<>();
      left.push(this);
      right.push(other);
      while (!left.isEmpty()) {
        List<Entry> a = left.pop().entries;
        List<Entry> b = right.pop().entries;
        if (a == b) {
          continue;
        }
        if (a.size() != b.size()) {
          return false;
        }
        for (int i = 0; i < a.size(); i++) {
          Entry x = a.get(i);
          Entry y = b.get(i);
          if (!x.name().equals(y.name())) {
            return false;
          }
          if (x.node() instanceof Directory dx) {
            if (!(y.node() instanceof Directory dy)) {
              return false;
            }
            left.push(dx);
            right.push(dy);
          } else if (!x.node().equals(y.node())) {
            return false;
          }
        }
      }
      return true;
    }

    /** A hash over the pre-order walk, without recursion (consistent with {@link #equals}). */
    @Override
    public int hashCode() {
      int h = 17;
      ArrayDeque<java.util.Iterator<Entry>> stack = new ArrayDeque<>();
      stack.push(entries.iterator());
      while (!stack.isEmpty()) {
        java.util.Iterator<Entry> it = stack.peek();
        if (!it.hasNext()) {
          stack.pop();
          h = h * 31 + 1; // end of a directory
          continue;
        }
        Entry e = it.next();
        h = h * 31 + e.name().hashCode();
        if (e.node() instanceof Directory d) {
          h = h * 31 + 2; // start of a directory
          stack.push(d.entries.iterator());
        } else {
          h = h * 31 + e.node().hashCode();
        }
      }
      return h;
    }

    /** A summary; the full tree can be huge or deep. */
    @Override
    public String toString() {
      return "Directory[" + entries.size() + " entries]";
    }

    /** A directory of the given entries (in any order). */
    public static Directory of(Entry... entries) {
      return new Directory(List.of(entries));
    }

    /** Starts a builder. */
    public static Builder builder() {
      return new Builder();
    }

    /** Accumulates entries for a {@link Directory}. */
    public static final class Builder {
      private final List<Entry> entries = new ArrayList<>();

      private Builder() {}

      public Builder add(String name, ErofsNode node) {
        entries.add(new Entry(name, node));
        return this;
      }

      public Directory build() {
        return new Directory(entries);
      }
    }
  }

  /** A regular file whose bytes live in the image itself (inline tail, plus blocks if large). */
  record InlineFile(byte[] data, boolean executable) implements ErofsNode {
    public InlineFile {
      data = data.clone();
    }

    public static InlineFile of(String text, boolean executable) {
      return new InlineFile(text.getBytes(StandardCharsets.UTF_8), executable);
    }

    public long size() {
      return data.length;
    }

    @Override
    public byte[] data() {
      return data.clone();
    }

    /** The bytes without a defensive copy, for the writer. */
    byte[] rawData() {
      return data;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof InlineFile f && f.executable == executable && Arrays.equals(f.data, data);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(data) * 2 + (executable ? 1 : 0);
    }

    @Override
    public String toString() {
      return "InlineFile[size=" + data.length + ", executable=" + executable + "]";
    }
  }

  /**
   * A regular file of {@code size} bytes cut into chunks of {@code 1 << chunkShift} bytes aligned
   * to its start, chunk {@code i} stored at {@code chunks.get(i)}; the last chunk holds the
   * remainder.
   */
  record ChunkedFile(long size, int chunkShift, List<ChunkLocation> chunks, boolean executable)
      implements ErofsNode {
    /** Smallest chunk shift: one 4 KiB block. */
    public static final int MIN_CHUNK_SHIFT = 12;

    /** Largest chunk shift the 5-bit on-disk field can express (12 + 31). */
    public static final int MAX_CHUNK_SHIFT = 43;

    public ChunkedFile {
      chunks = List.copyOf(chunks);
    }

    /** Number of chunks a file of {@code size} bytes has at this shift. */
    public static long chunkCount(long size, int chunkShift) {
      return size <= 0 ? 0 : ((size - 1) >>> chunkShift) + 1;
    }
  }

  /** A symbolic link to {@code target} (1..4095 bytes, no NUL). */
  record Symlink(byte[] target) implements ErofsNode {
    public Symlink {
      target = target.clone();
    }

    public static Symlink of(String target) {
      return new Symlink(target.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public byte[] target() {
      return target.clone();
    }

    byte[] rawTarget() {
      return target;
    }

    public String targetString() {
      return new String(target, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Symlink s && Arrays.equals(s.target, target);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(target);
    }

    @Override
    public String toString() {
      return "Symlink[" + targetString() + "]";
    }
  }
}
