package dev.styx.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.styx.chunk.ChunkDigest;
import dev.styx.diff.DiffCodec;
import dev.styx.manifest.Manifest;
import dev.styx.manifest.ManifestEntry;
import dev.styx.manifest.ManifestObject;
import dev.styx.sig.NixKeyring;
import dev.styx.sig.NixSecretKey;
import dev.styx.testing.NixCacheFixture;
import dev.styx.testing.StaticHttpServer;
import dev.styx.testing.Tiers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two versions of a real tree (Perl modules and JDK shared objects) that differ only by one
 * rewritten 32-character store hash, as a dependency bump does; both ingested from a Nix-made
 * cache. The /chunkdiff response for the changed chunks must be >= 20x smaller than the same chunks
 * zstd-compressed one by one, and decode exactly, in Java and with {@code zstd -d --patch-from}.
 */
class ChunkDiffTest {
  static final String H1 = "0c4pk6rhv9sajaaiwsd8fxjrcnd4ndp1";
  static final String H2 = "9x2mfyz7d2q5l9s1w6zbaw0hbqn3c8k4";

  @TempDir Path tmp;

  /** Writes the tree with every store reference pointing at hash {@code h}. */
  static Path tree(Path root, String h) throws Exception {
    Files.createDirectories(root.resolve("lib/perl5"));
    Files.createDirectories(root.resolve("lib/native"));
    String ref = "/nix/store/" + h + "-perl-5.36.0/lib/perl5";
    Path perl = Path.of("/usr/lib/x86_64-linux-gnu/perl-base");
    List<Path> pms;
    try (Stream<Path> s = Files.walk(perl)) {
      pms = s.filter(p -> p.toString().endsWith(".pm")).sorted().toList();
    }
    for (Path pm : pms) {
      List<String> lines = Files.readAllLines(pm, StandardCharsets.ISO_8859_1);
      StringBuilder sb = new StringBuilder("#!" + ref.replace("lib/perl5", "bin/perl") + "\n");
      for (int i = 0; i < lines.size(); i++) {
        sb.append(lines.get(i)).append('\n');
        if (i % 60 == 59) {
          sb.append("# use lib '").append(ref).append("';\n");
        }
      }
      Path out = root.resolve("lib/perl5").resolve(perl.relativize(pm).toString());
      Files.createDirectories(out.getParent());
      Files.writeString(out, sb, StandardCharsets.ISO_8859_1);
    }
    // Binaries: RPATH-like strings at fixed offsets (same offsets in both versions).
    byte[] rpath = ("/nix/store/" + h + "-glibc-2.37/lib\0").getBytes(StandardCharsets.US_ASCII);
    for (String so : List.of("libawt.so", "libjava.so", "libfontmanager.so", "libmlib_image.so")) {
      byte[] b = Files.readAllBytes(Path.of(NixCorpus.JDK, "lib", so));
      for (int off = 4096; off + rpath.length < b.length; off += 150_000) {
        System.arraycopy(rpath, 0, b, off, rpath.length);
      }
      Files.write(root.resolve("lib/native").resolve(so), b);
    }
    return root;
  }

  @Test
  void diffOfRewrittenStoreHashIsTinyAndDecodesWithJavaAndZstdCli() throws Exception {
    Tiers.requireCommand("zstd");
    Map<String, Path> sources = new LinkedHashMap<>();
    sources.put("v1", tree(tmp.resolve("src1/styx-difftree"), H1));
    sources.put("v2", tree(tmp.resolve("src2/styx-difftree"), H2));
    NixCacheFixture fx =
        NixCacheFixture.create(tmp.resolve("nix"), "styx-diff-1", sources, List.of("zstd"), false);
    NixSecretKey signer = NixSecretKey.generate("styx-manifester-test-1");
    try (StaticHttpServer up = fx.newServer("zstd");
        ManifesterServer s =
            ServerTestSupport.start(
                tmp.resolve("store"), signer, List.of(up.url()), fx.publicKey())) {
      Manifest m1 = manifest(s, up.url(), fx.paths().get("v1").toString(), signer);
      Manifest m2 = manifest(s, up.url(), fx.paths().get("v2").toString(), signer);

      // Aligned walk: same path, same chunk index, digest changed.
      Map<String, ManifestEntry.ChunkedFile> old = new HashMap<>();
      for (ManifestEntry e : m1.entries()) {
        if (e instanceof ManifestEntry.ChunkedFile f) {
          old.put(f.path(), f);
        }
      }
      List<ChunkDigest> bases = new ArrayList<>();
      List<ChunkDigest> targets = new ArrayList<>();
      for (ManifestEntry e : m2.entries()) {
        if (e instanceof ManifestEntry.ChunkedFile f && old.containsKey(f.path())) {
          ManifestEntry.ChunkedFile o = old.get(f.path());
          for (int i = 0; i < f.digests().size() && i < o.digests().size(); i++) {
            if (!f.digests().get(i).equals(o.digests().get(i))) {
              bases.add(o.digests().get(i));
              targets.add(f.digests().get(i));
            }
          }
        }
      }
      assertTrue(targets.size() >= 20, "changed chunks: " + targets.size());
      long oneByOne = 0;
      List<byte[]> baseData = new ArrayList<>();
      List<byte[]> targetData = new ArrayList<>();
      for (ChunkDigest d : targets) {
        oneByOne += Files.size(s.store().chunkPath(d)); // stored objects: zstd -3, one per chunk
        targetData.add(s.store().readChunk(d).orElseThrow());
      }
      for (ChunkDigest d : bases) {
        baseData.add(s.store().readChunk(d).orElseThrow());
      }

      HttpResponse<byte[]> r =
          ServerTestSupport.post(s.url() + "/chunkdiff", request(bases, targets));
      assertEquals(200, r.statusCode(), new String(r.body()));
      byte[] frame = r.body();
      long[] lengths =
          java.util.Arrays.stream(r.headers().firstValue("X-Styx-Lengths").orElseThrow().split(","))
              .mapToLong(Long::parseLong)
              .toArray();
      assertEquals(targets.size(), lengths.length);
      double ratio = (double) oneByOne / frame.length;
      System.out.printf(
          "chunkdiff: %d changed chunks, %d bytes raw, %d bytes zstd one by one, %d bytes diff (%.0fx)%n",
          targets.size(), DiffCodec.concat(targetData).length, oneByOne, frame.length, ratio);

      // Java decode.
      byte[] base = DiffCodec.concat(baseData);
      byte[] all = DiffCodec.decode(base, frame, (int) java.util.Arrays.stream(lengths).sum());
      List<byte[]> parts = DiffCodec.split(all, lengths);
      for (int i = 0; i < targets.size(); i++) {
        assertEquals(targets.get(i), ChunkDigest.of(parts.get(i)), "target " + i);
      }
      // zstd CLI decode with the bases as --patch-from.
      Path bf = tmp.resolve("bases");
      Path zf = tmp.resolve("diff.zst");
      Path out = tmp.resolve("targets");
      Files.write(bf, base);
      Files.write(zf, frame);
      Tiers.run(tmp, "zstd", "-q", "-d", "--patch-from=" + bf, zf.toString(), "-o", out.toString());
      assertArrayEquals(DiffCodec.concat(targetData), Files.readAllBytes(out));

      Path tf = tmp.resolve("targets-in");
      Files.write(tf, DiffCodec.concat(targetData));
      Path cz = tmp.resolve("cli.zst");
      Tiers.run(tmp, "zstd", "-q", "-3", "--patch-from=" + bf, tf.toString(), "-o", cz.toString());
      System.out.printf("zstd -3 --patch-from CLI: %d bytes%n", Files.size(cz));
      assertTrue(
          ratio >= 20, "diff only " + ratio + "x smaller: " + frame.length + " vs " + oneByOne);
      // Batch (no bases) decodes too, and a missing chunk is a clear 404.
      HttpResponse<byte[]> batch =
          ServerTestSupport.post(s.url() + "/chunks", request(null, targets.subList(0, 5)));
      assertEquals(200, batch.statusCode());
      long[] bl =
          java.util.Arrays.stream(
                  batch.headers().firstValue("X-Styx-Lengths").orElseThrow().split(","))
              .mapToLong(Long::parseLong)
              .toArray();
      List<byte[]> got =
          DiffCodec.split(
              DiffCodec.decode(new byte[0], batch.body(), (int) java.util.Arrays.stream(bl).sum()),
              bl);
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(targetData.get(i), got.get(i));
      }
      ChunkDigest absent = ChunkDigest.of(new byte[] {1, 2, 3});
      HttpResponse<byte[]> miss =
          ServerTestSupport.post(
              s.url() + "/chunkdiff", request(List.of(absent), targets.subList(0, 1)));
      assertEquals(404, miss.statusCode());
      assertTrue(new String(miss.body()).contains(absent.hex()));
      assertEquals(
          400,
          ServerTestSupport.post(s.url() + "/chunks", "{\"digests\":[\"../etc\"]}").statusCode());
      // Too many digests: a clear 400 before any chunk is read; the limit itself is accepted.
      List<ChunkDigest> many = new ArrayList<>();
      for (int i = 0; i <= ChunkService.MAX_DIGESTS; i++) {
        many.add(ChunkDigest.of(java.nio.ByteBuffer.allocate(4).putInt(i).array()));
      }
      HttpResponse<byte[]> tooMany =
          ServerTestSupport.post(s.url() + "/chunkdiff", request(many.subList(0, 1), many));
      assertEquals(400, tooMany.statusCode());
      assertTrue(new String(tooMany.body()).contains("at most 4096"), new String(tooMany.body()));
      HttpResponse<byte[]> atLimit =
          ServerTestSupport.post(
              s.url() + "/chunks", request(null, many.subList(0, ChunkService.MAX_DIGESTS)));
      assertEquals(404, atLimit.statusCode(), "parsed, then every chunk looked up");
      assertEquals(
          400, ServerTestSupport.get(s.url() + "/chunk/..%2F..%2Fetc%2Fpasswd").statusCode());
      assertEquals(404, ServerTestSupport.get(s.url() + "/chunk/" + absent.hex()).statusCode());
      HttpResponse<byte[]> one = ServerTestSupport.get(s.url() + "/chunk/" + targets.get(0).hex());
      assertArrayEquals(Files.readAllBytes(s.store().chunkPath(targets.get(0))), one.body());
    }
  }

  private static Manifest manifest(ManifesterServer s, String up, String path, NixSecretKey signer)
      throws Exception {
    HttpResponse<byte[]> r = ServerTestSupport.requestManifest(s, up, path);
    assertEquals(200, r.statusCode(), new String(r.body()));
    return ManifestObject.unwrap(r.body()).verify(NixKeyring.of(signer.publicKey()));
  }

  private static String request(List<ChunkDigest> bases, List<ChunkDigest> targets) {
    ObjectNode n = ServerTestSupport.JSON.createObjectNode();
    if (bases != null) {
      ArrayNode b = n.putArray("bases");
      bases.forEach(d -> b.add(d.hex()));
      ArrayNode t = n.putArray("targets");
      targets.forEach(d -> t.add(d.hex()));
    } else {
      ArrayNode t = n.putArray("digests");
      targets.forEach(d -> t.add(d.hex()));
    }
    return n.toString();
  }
}
