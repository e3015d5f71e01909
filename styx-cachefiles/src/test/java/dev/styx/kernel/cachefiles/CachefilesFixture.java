package dev.styx.kernel.cachefiles;

import dev.styx.testing.Tiers;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32C;

/**
 * Two real EROFS images over one chunk blob, made by erofs-utils ({@code mkfs.erofs
 * --chunksize=65536 --blobdev=BLOB}) from the same tree with different UUIDs, so they differ as
 * images (different fsids) but share every chunk; their device slot is re-tagged {@code
 * styx-slab-0} (the cookie key cachefiles opens) and the superblock checksum recomputed.
 */
final class CachefilesFixture {
  final Path dir;
  final Path src;
  final Path imageA;
  final Path imageB;
  final Path blob;
  final Map<String, byte[]> files = new LinkedHashMap<>();
  private byte[] blobBytes;

  private CachefilesFixture(Path dir) {
    this.dir = dir;
    src = dir.resolve("src");
    imageA = dir.resolve("a.erofs");
    imageB = dir.resolve("b.erofs");
    blob = dir.resolve("blob");
  }

  /** Assorted files (one duplicated, one tiny, /usr/bin/true) plus {@code perfBytes} of random. */
  static CachefilesFixture build(Path dir, int perfBytes) throws IOException, InterruptedException {
    Tiers.requireCommand("mkfs.erofs");
    CachefilesFixture f = new CachefilesFixture(dir);
    Random r = new Random(7);
    f.put("big.bin", random(r, 1_048_576));
    f.put("sub/mid.bin", random(r, 300_000));
    f.put("sub/odd.bin", random(r, 65_537));
    f.put("sub/copy-of-mid.bin", f.files.get("sub/mid.bin"));
    f.put("tiny.txt", "hello styx\n".getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < 12; i++) {
      f.put("many/f" + i, random(r, 5_000 + 7_000 * i));
    }
    if (perfBytes > 0) {
      f.put("perf.bin", random(r, perfBytes));
    }
    Files.createDirectories(f.src.resolve("bin"));
    Files.copy(
        Path.of("/usr/bin/true"), f.src.resolve("bin/true"), StandardCopyOption.COPY_ATTRIBUTES);
    f.files.put("bin/true", Files.readAllBytes(Path.of("/usr/bin/true")));
    Path blobB = dir.resolve("blob-b");
    mkfs(dir, f.blob, f.imageA, f.src, "11111111-2222-3333-4444-555555555555");
    mkfs(dir, blobB, f.imageB, f.src, "66666666-7777-8888-9999-000000000000");
    if (!Arrays.equals(Files.readAllBytes(f.blob), Files.readAllBytes(blobB))) {
      throw new IOException("mkfs.erofs laid out the two blobs differently: cannot share a slab");
    }
    Files.delete(blobB);
    retag(f.imageA, CachefilesBackend.slabTag(0));
    retag(f.imageB, CachefilesBackend.slabTag(0));
    f.blobBytes = Files.readAllBytes(f.blob);
    return f;
  }

  private static void mkfs(Path cwd, Path blob, Path image, Path src, String uuid)
      throws IOException, InterruptedException {
    Tiers.run(
        cwd,
        "mkfs.erofs",
        "--quiet",
        "-T0",
        "-U" + uuid,
        "--chunksize=65536",
        "--blobdev=" + blob,
        image.toString(),
        src.toString());
  }

  /**
   * Writes {@code tag} into device slot 0 (at devt_slotoff * 128, tag[64] @0) and recomputes the
   * superblock checksum (crc32c(~0) over [1024, 4096) with the field zeroed, no final inversion).
   */
  static void retag(Path image, String tag) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
      byte[] blk = new byte[4096];
      raf.readFully(blk);
      ByteBuffer b = ByteBuffer.wrap(blk).order(ByteOrder.LITTLE_ENDIAN);
      if (b.getInt(1024) != 0xE0F5E1E2 || b.getShort(1024 + 86) != 1) {
        throw new IOException(image + ": not an EROFS image with one extra device");
      }
      boolean checksummed = (b.getInt(1024 + 8) & 1) != 0;
      int stored = b.getInt(1024 + 4);
      if (checksummed && stored != checksum(blk)) {
        throw new IOException(image + ": superblock checksum mismatch before retagging");
      }
      int slot = Short.toUnsignedInt(b.getShort(1024 + 88)) * 128;
      Arrays.fill(blk, slot, slot + 64, (byte) 0);
      byte[] t = tag.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(t, 0, blk, slot, t.length);
      if (checksummed) {
        b.putInt(1024 + 4, checksum(blk));
      }
      raf.seek(0);
      raf.write(blk);
    }
  }

  private static int checksum(byte[] blk) {
    byte[] sb = Arrays.copyOfRange(blk, 1024, 4096);
    Arrays.fill(sb, 4, 8, (byte) 0);
    CRC32C c = new CRC32C();
    c.update(sb);
    return ~(int) c.getValue();
  }

  /** A fresh all-holes slab file of the blob's size: nothing present. */
  Path newSlab(String name) throws IOException {
    Path s = dir.resolve(name);
    Files.deleteIfExists(s);
    try (RandomAccessFile raf = new RandomAccessFile(s.toFile(), "rw")) {
      raf.setLength(Files.size(blob));
    }
    return s;
  }

  /** Where a file's data sits in the blob, {@code [start, end)} block-aligned; unique data only. */
  long[] range(String name) throws IOException {
    byte[] data = files.get(name);
    int n = Math.min(4096, data.length);
    outer:
    for (int i = 0; i + n <= blobBytes.length; i += 4096) {
      for (int j = 0; j < n; j++) {
        if (blobBytes[i + j] != data[j]) {
          continue outer;
        }
      }
      for (int j = 0; j < data.length; j++) {
        if (blobBytes[i + j] != data[j]) {
          throw new IOException(name + " is not stored contiguously in the blob");
        }
      }
      return new long[] {i, i + ((data.length + 4095L) & ~4095L)};
    }
    throw new IOException(name + " not found in the blob");
  }

  private void put(String name, byte[] data) throws IOException {
    Path p = src.resolve(name);
    Files.createDirectories(p.getParent());
    Files.write(p, data);
    files.put(name, data);
  }

  private static byte[] random(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }
}
