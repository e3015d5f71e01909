package dev.styx.nar;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** The table of contents of a NAR, with content offsets, for {@code styx nar ls}. */
public record NarListing(List<Entry> entries, long narSize) {

  /** Node kinds. */
  public enum Type {
    DIRECTORY,
    REGULAR,
    SYMLINK
  }

  /**
   * One node. {@code size} and {@code contentsOffset} are meaningful for regular files (offset of
   * the first content byte in the NAR), {@code target} for symlinks.
   */
  public record Entry(
      NarPath path, Type type, boolean executable, long size, long contentsOffset, String target) {}

  /** Copies the entry list. */
  public NarListing {
    entries = List.copyOf(entries);
  }

  /** Reads a whole NAR, keeping only its metadata. */
  public static NarListing read(InputStream nar) throws IOException {
    List<Entry> out = new ArrayList<>();
    long size =
        NarReader.read(
            nar,
            new NarVisitor() {
              @Override
              public void directory(NarPath path) {
                out.add(new Entry(path, Type.DIRECTORY, false, 0, -1, null));
              }

              @Override
              public void regularFile(NarPath path, boolean exec, long size, InputStream c) {
                long off = c instanceof NarReader.Contents rc ? rc.narOffset() : -1;
                out.add(new Entry(path, Type.REGULAR, exec, size, off, null));
              }

              @Override
              public void symlink(NarPath path, String target) {
                out.add(new Entry(path, Type.SYMLINK, false, 0, -1, target));
              }

              @Override
              public void endDirectory(NarPath path) {}
            });
    return new NarListing(out, size);
  }

  /**
   * One line per node like {@code nix nar ls -lR FILE /}: mode, size right-aligned in 20 columns,
   * {@code ./path} (the root itself is omitted when it is a directory), {@code -> target}.
   */
  public List<String> format() {
    List<String> lines = new ArrayList<>();
    for (Entry e : entries) {
      if (e.path().isRoot() && e.type() == Type.DIRECTORY) {
        continue;
      }
      String mode =
          switch (e.type()) {
            case REGULAR -> e.executable() ? "-r-xr-xr-x" : "-r--r--r--";
            case SYMLINK -> "lrwxrwxrwx";
            case DIRECTORY -> "dr-xr-xr-x";
          };
      String shown = e.path().isRoot() ? "" : "./" + e.path();
      String line = String.format("%s %20d %s", mode, e.size(), shown);
      if (e.type() == Type.SYMLINK) {
        line += " -> " + e.target();
      }
      lines.add(line);
    }
    return lines;
  }
}
