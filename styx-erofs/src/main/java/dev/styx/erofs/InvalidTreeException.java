package dev.styx.erofs;

/** The writer was given a tree it cannot or must not encode; the message names the path. */
public final class InvalidTreeException extends IllegalArgumentException {
  private final String path;

  public InvalidTreeException(String path, String problem) {
    super(path + ": " + problem);
    this.path = path;
  }

  /** The offending path inside the tree, {@code "/"} for the root. */
  public String path() {
    return path;
  }
}
