package dev.styx.chunk;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A chunk's name: the SHA-256 of its bytes (32 bytes), written as lower-case hex. */
public record ChunkDigest(byte[] bytes) implements Comparable<ChunkDigest> {
  public static final int LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();

  public ChunkDigest {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("chunk digest must be 32 bytes, got " + bytes.length);
    }
    bytes = bytes.clone();
  }

  /** Digest of {@code data[off, off+len)}. */
  public static ChunkDigest of(byte[] data, int off, int len) {
    MessageDigest md = sha256();
    md.update(data, off, len);
    return new ChunkDigest(md.digest());
  }

  public static ChunkDigest of(byte[] data) {
    return of(data, 0, data.length);
  }

  /** Digest of the buffer's remaining bytes (the position is not moved). */
  public static ChunkDigest of(ByteBuffer data) {
    MessageDigest md = sha256();
    md.update(data.duplicate());
    return new ChunkDigest(md.digest());
  }

  /** Parses 64 hex characters; rejects anything else. */
  public static ChunkDigest parseHex(String hex) {
    if (hex.length() != 2 * LENGTH) {
      throw new IllegalArgumentException("chunk digest must be 64 hex characters: " + hex);
    }
    for (int i = 0; i < hex.length(); i++) {
      char c = hex.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new IllegalArgumentException("chunk digest must be lower-case hex: " + hex);
      }
    }
    return new ChunkDigest(HEX.parseHex(hex));
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("the JDK always has SHA-256", e);
    }
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public String hex() {
    return HEX.formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkDigest d && Arrays.equals(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(ChunkDigest o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return hex();
  }
}
