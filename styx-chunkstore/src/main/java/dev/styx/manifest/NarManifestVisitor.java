package dev.styx.manifest;

import dev.styx.nar.NarFormatException;
import dev.styx.nar.NarPath;
import dev.styx.nar.NarVisitor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Feeds a {@link dev.styx.nar.NarReader} walk into a {@link ManifestBuilder}. Manifest paths are
 * text, so a NAR whose names are not valid UTF-8 is refused rather than silently altered.
 */
public final class NarManifestVisitor implements NarVisitor {
  private final ManifestBuilder builder;

  public NarManifestVisitor(ManifestBuilder builder) {
    this.builder = builder;
  }

  /** The manifest path of a NAR path: {@code "/"} for the root, else {@code "/a/b"}. */
  public static String manifestPath(NarPath p) throws NarFormatException {
    byte[] raw = p.toBytes();
    String s = new String(raw, StandardCharsets.UTF_8);
    if (!Arrays.equals(s.getBytes(StandardCharsets.UTF_8), raw)) {
      throw new NarFormatException(-1, "entry name is not valid UTF-8: " + ManifestPaths.quote(s));
    }
    return "/" + s;
  }

  @Override
  public void directory(NarPath path) throws IOException {
    builder.directory(manifestPath(path));
  }

  @Override
  public void regularFile(NarPath path, boolean executable, long size, InputStream contents)
      throws IOException {
    builder.regularFile(manifestPath(path), executable, size, contents);
  }

  @Override
  public void symlink(NarPath path, String target) throws IOException {
    // The reader decodes targets as UTF-8 with replacement; a U+FFFD may hide bytes we would lose.
    if (target.indexOf('\uFFFD') >= 0) {
      throw new NarFormatException(
          -1, "symlink target of /" + path + " is not valid UTF-8: " + ManifestPaths.quote(target));
    }
    builder.symlink(manifestPath(path), target);
  }

  @Override
  public void endDirectory(NarPath path) {}
}
