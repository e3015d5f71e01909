package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.FileId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-flight journal: what a restarted daemon must still answer. */
class InFlightJournalTest {
  @TempDir Path tmp;

  @Test
  void replayKeepsUnansweredEntriesAndIgnoresATornTail() {
    Map<Integer, InFlightJournal.Entry> m =
        InFlightJournal.replay("+ 7 1 2 0 4096\n+ 8 1 2 4096 4096\n- 7\n+ 7 1 3 8192 100\n+ 9 1");
    assertEquals(List.of(8, 7), List.copyOf(m.keySet()));
    assertEquals(new InFlightJournal.Entry(7, new FileId(1, 3), 8192, 100), m.get(7));
    assertThrows(IllegalArgumentException.class, () -> InFlightJournal.replay("* 1\n"));
    assertThrows(IllegalArgumentException.class, () -> InFlightJournal.replay("+ x 1 2 3 4\n"));
  }

  @Test
  void survivesReopenAndEmptiesWhenAllAreAnswered() throws Exception {
    Path p = tmp.resolve("j");
    FileId f = new FileId(66, 1234);
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertTrue(j.recovered().isEmpty());
      j.add(new InFlightJournal.Entry(11, f, 0, 65536));
      j.add(new InFlightJournal.Entry(12, f, 65536, 4096));
      j.remove(11);
      // no close: a killed process leaves what it wrote
    }
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertEquals(List.of(new InFlightJournal.Entry(12, f, 65536, 4096)), j.recovered());
      assertEquals(1, j.outstanding());
      j.remove(12);
      assertEquals(0, j.outstanding());
      assertEquals(0, Files.size(p), "empty once nothing is in flight");
    }
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertTrue(j.recovered().isEmpty());
    }
  }
}
