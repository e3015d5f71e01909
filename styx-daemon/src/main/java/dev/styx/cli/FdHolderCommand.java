package dev.styx.cli;

import dev.styx.kernel.fdstore.FdHolder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code styx fd-holder}: keeps the daemon's fanotify fds alive where there is no systemd. */
@Command(
    name = "fd-holder",
    mixinStandardHelpOptions = true,
    description = {
      "Hold named file descriptors for the daemon, standing in for systemd's",
      "fd store (tests, demos, hosts without systemd).",
      "",
      "The fanotify backend keeps its notification group and slab write fds",
      "here. If the daemon dies while readers wait for missing data, the group",
      "stays alive in this process, so the readers block instead of reading",
      "zeros; a restarted daemon takes the fds back, answers the journaled",
      "events and carries on.",
      "",
      "Protocol (SOCK_SEQPACKET, sd_notify lines): FDSTORE=1 FDNAME=x with one",
      "fd, FDSTOREREMOVE=1 FDNAME=x, FDGET=1. Stopping the holder drops the",
      "fds: readers of missing data then get zeros, so stop it only after the",
      "lazy mounts are gone.",
    })
final class FdHolderCommand implements Callable<Integer> {
  @Option(
      names = "--socket",
      required = true,
      paramLabel = "PATH",
      description = "Unix socket to listen on (created mode 0600; a stale socket is replaced).")
  Path socket;

  @Override
  public Integer call() throws Exception {
    try (FdHolder h = FdHolder.bind(socket.toAbsolutePath())) {
      Runtime.getRuntime().addShutdownHook(new Thread(h::close, "fd-holder-stop"));
      System.err.println("styx fd-holder: listening on " + socket.toAbsolutePath());
      h.serve();
    }
    return 0;
  }
}
