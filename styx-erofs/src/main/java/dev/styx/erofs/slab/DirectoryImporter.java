package dev.styx.erofs.slab;

import dev.styx.erofs.ChunkLocation;
import dev.styx.erofs.ErofsNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongToIntFunction;

/**
 * Reads a directory tree from the file system into the {@link ErofsNode} model, storing file data
 * as chunks in a {@link SlabFileWriter}: files up to {@code inlineMax} bytes stay inline, larger
 * ones are cut into chunks of {@code 1 << chunkShift.applyAsInt(size)} bytes aligned to the file
 * start. Symlinks are not followed; the executable bit is the owner's, as in a NAR.
 */
public final class DirectoryImporter {
  private final SlabFileWriter slab;
  private final int device;
  private final LongToIntFunction chunkShift;
  private final int inlineMax;
  private byte[] buf = new byte[0];
  private long files;
  private long bytes;

  /**
   * @param device the slab's device number in the image (1 for the first extra device)
   */
  public DirectoryImporter(
      SlabFileWriter slab, int device, LongToIntFunction chunkShift, int inlineMax) {
    this.slab = slab;
    this.device = device;
    this.chunkShift = chunkShift;
    this.inlineMax = inlineMax;
  }

  /** Imports {@code dir} (which must be a directory) as the image root. */
  public ErofsNode.Directory importTree(Path dir) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not a directory");
    }
    return importDir(dir, 0);
  }

  /** Regular files imported so far. */
  public long files() {
    return files;
  }

  /** Regular file bytes imported so far. */
  public long bytes() {
    return bytes;
  }

  private ErofsNode.Directory importDir(Path dir, int depth) throws IOException {
    if (depth > dev.styx.erofs.ErofsWriter.MAX_DEPTH) {
      throw new IOException(dir + ": nested too deeply");
    }
    List<ErofsNode.Entry> entries = new ArrayList<>();
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        children.add(p);
      }
    }
    for (Path p : children) {
      entries.add(new ErofsNode.Entry(p.getFileName().toString(), importNode(p, depth)));
    }
    return new ErofsNode.Directory(entries);
  }

  private ErofsNode importNode(Path p, int depth) throws IOException {
    PosixFileAttributes a =
        Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isSymbolicLink()) {
      return new ErofsNode.Symlink(
          Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8));
    }
    if (a.isDirectory()) {
      return importDir(p, depth + 1);
    }
    if (!a.isRegularFile()) {
      throw new IOException(p + ": not a regular file, directory or symlink");
    }
    boolean exec = a.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
    long size = a.size();
    files++;
    bytes += size;
    if (size <= inlineMax) {
      byte[] data = Files.readAllBytes(p);
      if (data.length != size) {
        throw new IOException(p + ": changed size while reading");
      }
      return new ErofsNode.InlineFile(data, exec);
    }
    int shift = chunkShift.applyAsInt(size);
    int chunk = 1 << shift;
    if (buf.length < chunk) {
      buf = new byte[chunk];
    }
    long n = ErofsNode.ChunkedFile.chunkCount(size, shift);
    List<ChunkLocation> locs = new ArrayList<>((int) Math.min(n, 1 << 20));
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      for (long i = 0; i < n; i++) {
        int len = (int) Math.min(chunk, size - (i << shift));
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len);
        long pos = i << shift;
        while (b.hasRemaining()) {
          int r = ch.read(b, pos + b.position());
          if (r < 0) {
            throw new IOException(p + ": shrank while reading");
          }
        }
        locs.add(slab.appendChunk(device, buf, 0, len));
      }
      if (ch.size() != size) {
        throw new IOException(p + ": changed size while reading");
      }
    }
    return new ErofsNode.ChunkedFile(size, shift, locs, exec);
  }
}
