package dev.styx.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.db.DaemonParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API's wire format over a real Unix socket. The service behind it records calls: the daemon's
 * own behaviour is covered by the end-to-end tests; this pins the Nix patch's JSON shapes.
 */
class ApiServerTest {
  @TempDir Path tmp;

  /** Records requests; fails mounts of paths containing "bad". */
  static final class Recorder implements StyxService {
    final List<Object> calls = new ArrayList<>();

    @Override
    public void init(DaemonParams params) {
      calls.add(params);
    }

    @Override
    public void mount(MountRequest r) throws IOException {
      calls.add(r);
      if (r.storePath().contains("bad")) {
        throw new ApiError(404, "no such path upstream");
      }
    }

    @Override
    public void umount(String storePath) {
      calls.add(storePath);
    }

    @Override
    public Object debug() {
      return java.util.Map.of("images", List.of());
    }

    @Override
    public String metrics() {
      return "styx_up 1\n";
    }
  }

  @Test
  void speaksTheNixPatchWireFormatOnARootOnlySocket() throws Exception {
    Recorder rec = new Recorder();
    Path sock = tmp.resolve("styx.sock");
    try (ApiServer s = new ApiServer(sock, new ApiRoutes(rec), "rw-------")) {
      s.start();
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
      ApiClient c = new ApiClient(sock);
      ApiClient.Reply r =
          c.post(
              "/mount",
              "{\"Upstream\":\"https://cache.nixos.org\",\"StorePath\":\"abc-hello\","
                  + "\"MountPoint\":\"/nix/store/abc-hello\",\"NarSize\":1234}");
      assertEquals(200, r.status());
      assertEquals("{\"Success\":true}", r.text());
      assertEquals(
          new MountRequest("https://cache.nixos.org", "abc-hello", "/nix/store/abc-hello", 1234),
          rec.calls.getLast());
      ApiClient.Reply bad = c.post("/mount", "{\"StorePath\":\"bad-x\"}");
      assertEquals(404, bad.status());
      assertEquals("{\"Success\":false,\"Error\":\"no such path upstream\"}", bad.text());
      assertEquals(400, c.post("/mount", "{not json").status());
      assertEquals(200, c.post("/umount", "{\"StorePath\":\"abc-hello\"}").status());
      assertEquals("abc-hello", rec.calls.getLast());
      assertEquals(400, c.post("/umount", "{}").status());
      ApiClient.Reply init =
          c.post(
              "/init",
              "{\"PubKeys\":[\"k:AAAA\"],\"Params\":{\"manifester_url\":\"http://m\","
                  + "\"chunk_read_url\":\"http://c\"}}");
      assertEquals(200, init.status(), init.text());
      assertEquals(
          new DaemonParams("http://m", "http://c", List.of("k:AAAA")), rec.calls.getLast());
      assertEquals(400, c.post("/init", "{\"ManifesterUrl\":\"ftp://x\"}").status());
      assertTrue(c.post("/metrics", "").text().contains("styx_up 1"));
      assertEquals(404, c.post("/nope", "{}").status());
      // A second server on the same live socket is refused.
      try (ApiServer s2 = new ApiServer(sock, new ApiRoutes(rec), "rw-------")) {
        IOException e = assertThrows(IOException.class, s2::start);
        assertTrue(e.getMessage().contains("another daemon"), e.getMessage());
      }
    }
    assertTrue(Files.notExists(sock), "socket removed on close");
  }
}
