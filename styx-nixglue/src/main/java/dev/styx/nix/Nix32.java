package dev.styx.nix;

/**
 * Nix's base-32 encoding: alphabet {@code 0123456789abcdfghijklmnpqrsvwxyz} (no e, o, u, t), and
 * the bit order of Nix's {@code printHash32}: the last character encodes the lowest bits of byte 0.
 */
public final class Nix32 {
  /** The 32 digits, in value order. */
  public static final String ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";

  private static final byte[] VALUE = new byte[128];

  static {
    java.util.Arrays.fill(VALUE, (byte) -1);
    for (int i = 0; i < ALPHABET.length(); i++) {
      VALUE[ALPHABET.charAt(i)] = (byte) i;
    }
  }

  private Nix32() {}

  /** Number of characters that encode {@code byteLength} bytes. */
  public static int encodedLength(int byteLength) {
    if (byteLength <= 0) {
      return 0;
    }
    return (byteLength * 8 - 1) / 5 + 1;
  }

  /** True if {@code c} is one of the 32 nix32 digits. */
  public static boolean isDigit(char c) {
    return c < 128 && VALUE[c] >= 0;
  }

  /** Encodes bytes as nix32 (src/libutil/hash.cc printHash32). */
  public static String encode(byte[] bytes) {
    int len = encodedLength(bytes.length);
    char[] out = new char[len];
    for (int n = len - 1; n >= 0; n--) {
      int b = n * 5;
      int i = b / 8;
      int j = b % 8;
      int c = (bytes[i] & 0xff) >>> j;
      if (i + 1 < bytes.length) {
        c |= (bytes[i + 1] & 0xff) << (8 - j);
      }
      out[len - 1 - n] = ALPHABET.charAt(c & 0x1f);
    }
    return new String(out);
  }

  /** Decodes nix32 whose byte length follows from its character count. */
  public static byte[] decode(String s) {
    return decode(s, s.length() * 5 / 8);
  }

  /**
   * Decodes exactly {@code byteLength} bytes; rejects a wrong length, a non-digit or non-zero
   * excess bits (so every byte string has exactly one encoding).
   */
  public static byte[] decode(String s, int byteLength) {
    if (s.length() != encodedLength(byteLength)) {
      throw new IllegalArgumentException(
          "nix32 string of length "
              + s.length()
              + " cannot encode "
              + byteLength
              + " bytes (expected "
              + encodedLength(byteLength)
              + " characters)");
    }
    byte[] out = new byte[byteLength];
    int len = s.length();
    for (int n = 0; n < len; n++) {
      char ch = s.charAt(len - n - 1);
      if (!isDigit(ch)) {
        throw new IllegalArgumentException(
            "invalid nix32 character '" + ch + "' at index " + (len - n - 1) + " in '" + s + "'");
      }
      int digit = VALUE[ch];
      int b = n * 5;
      int i = b / 8;
      int j = b % 8;
      out[i] |= (byte) (digit << j);
      int carry = digit >>> (8 - j);
      if (i + 1 < byteLength) {
        out[i + 1] |= (byte) carry;
      } else if (carry != 0) {
        throw new IllegalArgumentException("nix32 string '" + s + "' has non-zero excess bits");
      }
    }
    return out;
  }
}
