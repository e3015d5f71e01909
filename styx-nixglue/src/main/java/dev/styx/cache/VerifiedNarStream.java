package dev.styx.cache;

import dev.styx.hash.DigestHandoff;
import dev.styx.hash.Sha256;
import dev.styx.narinfo.NarInfo;
import dev.styx.nix.NixHash;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The decompressed NAR of a narinfo, checked as it streams: too many bytes fail at once, and at end
 * of stream the compressed file is drained and FileSize/FileHash and NarSize/NarHash compared, so a
 * consumer that reads to EOF never accepts bad data (EOF is only reported after the check).
 *
 * <p>A reader that hashes the NAR's bytes anyway may take over the NarHash ({@link
 * #handOffDigest}); the check at the end is the same, on the reader's digest.
 */
final class VerifiedNarStream extends BulkInputStream implements DigestHandoff {
  private final NarInfo info;
  private final String url;
  private final CountingInputStream file;
  private final InputStream nar;
  private final MessageDigest narDigest;

  /** The reader's digest of the NAR once it took the NarHash over, else null. */
  private Sha256 handedOff;

  private final boolean sameBytes;
  private final boolean shareDigest;
  private long narCount;
  private boolean verified;
  private IOException failure;

  VerifiedNarStream(NarInfo info, String url, InputStream raw) throws IOException {
    this.info = info;
    this.url = url;
    NixHash fh = info.fileHash();
    // Uncompressed: the file bytes are the NAR bytes, so one digest serves both checks when the
    // algorithms agree (FileHash and NarHash are still both compared, see verify()).
    this.sameBytes = Decompression.isIdentity(info.compression());
    this.shareDigest = sameBytes && fh != null && fh.algorithm() == info.narHash().algorithm();
    this.file =
        new CountingInputStream(raw, fh == null || shareDigest ? null : fh.algorithm().newDigest());
    this.nar = Decompression.open(info.compression(), file, url);
    this.narDigest = info.narHash().algorithm().newDigest();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (verified) {
      return -1;
    }
    if (failure != null) {
      throw failure;
    }
    if (len == 0) {
      return 0;
    }
    int n = nar.read(b, off, len);
    if (n < 0) {
      try {
        verify();
      } catch (IOException e) {
        failure = e;
        throw e;
      }
      return -1;
    }
    narCount += n;
    if (narCount > info.narSize()) {
      failure =
          new NarIntegrityException(
              "NAR from " + url + " is longer than its NarSize " + info.narSize());
      throw failure;
    }
    if (handedOff == null) {
      narDigest.update(b, off, n);
    }
    return n;
  }

  @Override
  public Optional<Sha256> handOffDigest() {
    if (handedOff != null
        || narCount > 0
        || info.narHash().algorithm() != NixHash.Algorithm.SHA256
        || !Sha256.available()) {
      return Optional.empty();
    }
    handedOff = Sha256.create();
    return Optional.of(handedOff);
  }

  private void verify() throws IOException {
    byte[] sink = new byte[64 * 1024];
    while (file.read(sink, 0, sink.length) >= 0) {
      // drain trailing compressed bytes so FileSize/FileHash cover the whole file
    }
    if (info.fileSize() >= 0 && file.count != info.fileSize()) {
      throw new NarIntegrityException(
          "file " + url + " is " + file.count + " bytes, narinfo FileSize says " + info.fileSize());
    }
    if (sameBytes && file.count != narCount) {
      throw new NarIntegrityException(
          "file " + url + " is " + file.count + " bytes but its NAR " + narCount + " bytes");
    }
    NixHash narGot =
        new NixHash(
            info.narHash().algorithm(),
            handedOff != null ? handedOff.copy().digest() : narDigest.digest());
    if (file.md != null || shareDigest) {
      NixHash got =
          shareDigest ? narGot : new NixHash(info.fileHash().algorithm(), file.md.digest());
      if (!got.equals(info.fileHash())) {
        throw new NarIntegrityException(
            "file " + url + " has hash " + got + ", narinfo FileHash says " + info.fileHash());
      }
    }
    if (narCount != info.narSize()) {
      throw new NarIntegrityException(
          "NAR from " + url + " is " + narCount + " bytes, narinfo NarSize says " + info.narSize());
    }
    NixHash got = narGot;
    if (!got.equals(info.narHash())) {
      throw new NarIntegrityException(
          "NAR from " + url + " has hash " + got + ", narinfo NarHash says " + info.narHash());
    }
    verified = true;
  }

  @Override
  public void close() throws IOException {
    nar.close();
  }
}
