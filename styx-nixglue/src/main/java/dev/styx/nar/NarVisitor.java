package dev.styx.nar;

import java.io.IOException;
import java.io.InputStream;

/**
 * Receives a NAR's nodes in NAR order (depth-first, entries in byte order). A directory's children
 * arrive between {@link #directory} and {@link #endDirectory}.
 */
public interface NarVisitor {
  /** A directory starts. */
  void directory(NarPath path) throws IOException;

  /**
   * A regular file. {@code contents} yields exactly {@code size} bytes and is only valid during
   * this call; whatever the visitor leaves unread is consumed by the reader afterwards. When it
   * comes from {@link NarReader} it is a {@link NarReader.Contents}, which knows its NAR offset.
   */
  void regularFile(NarPath path, boolean executable, long size, InputStream contents)
      throws IOException;

  /** A symbolic link; {@code target} is the target decoded as UTF-8. */
  void symlink(NarPath path, String target) throws IOException;

  /**
   * A symbolic link with its exact target bytes (the NAR does not fix an encoding). {@link
   * NarReader} calls this; the default decodes as UTF-8 and calls {@link #symlink(NarPath,
   * String)}. Override it where byte-exactness matters (re-serializing, restoring).
   */
  default void symlink(NarPath path, byte[] target) throws IOException {
    symlink(path, new String(target, java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The directory started by {@link #directory} with the same path ends. */
  void endDirectory(NarPath path) throws IOException;
}
