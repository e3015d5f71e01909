package dev.styx.kernel;

/**
 * A file's identity in the kernel ({@code st_dev}, {@code st_ino}): how an fanotify event fd, which
 * the kernel opens afresh for each event, is matched back to the slab it refers to.
 */
public record FileId(long dev, long ino) {}
