package dev.styx.kernel.cachefiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The EROFS images this backend serves, kept by fsid in {@code <cacheDir>/images/}: the kernel can
 * ask for an image's bytes (OPEN then READ of its cookie) whenever its cache file is incomplete,
 * including after a daemon restart, so the bytes must outlive the caller's temporary image file.
 * The fsid is derived from the content ({@code styx-img-} + 32 hex digits of its SHA-256): the same
 * image always has the same cookie, so its cache file is reused and never stale.
 */
final class ImageStore {
  static final String FSID_PREFIX = "styx-img-";

  /** A stored image: its fsid (the EROFS cookie key), file and size. */
  record Image(String fsid, Path file, long size) {}

  private final Path dir;

  ImageStore(Path cacheDir) {
    this.dir = cacheDir.resolve("images");
  }

  /** Copies {@code image} into the store (atomically, once per content); returns its entry. */
  Image register(Path image) throws IOException {
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".incoming-", "");
    try {
      MessageDigest sha;
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IOException(e);
      }
      try (InputStream in = new DigestInputStream(Files.newInputStream(image), sha)) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      }
      long size = Files.size(tmp);
      if (size == 0 || size % 4096 != 0) {
        // cachefiles writes whole pages; EROFS images are whole 4 KiB blocks.
        throw new IOException(image + ": " + size + " bytes is not a whole number of 4 KiB blocks");
      }
      String fsid = FSID_PREFIX + HexFormat.of().formatHex(sha.digest(), 0, 16);
      Path dest = dir.resolve(fsid);
      if (!Files.exists(dest)) {
        try (var ch =
            java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
          ch.force(true);
        }
        Files.move(tmp, dest, StandardCopyOption.ATOMIC_MOVE);
      }
      return new Image(fsid, dest, size);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The image stored under {@code fsid}, if any; malformed names never touch the file system. */
  Optional<Image> lookup(String fsid) throws IOException {
    if (!fsid.startsWith(FSID_PREFIX)
        || !fsid.substring(FSID_PREFIX.length()).matches("[0-9a-f]{32}")) {
      return Optional.empty();
    }
    Path f = dir.resolve(fsid);
    if (!Files.isRegularFile(f)) {
      return Optional.empty();
    }
    return Optional.of(new Image(fsid, f, Files.size(f)));
  }
}
