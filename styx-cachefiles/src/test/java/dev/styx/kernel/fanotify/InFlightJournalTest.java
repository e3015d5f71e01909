package dev.styx.kernel.fanotify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.styx.kernel.FileId;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
  void scanReadsLiveSlotsAndIgnoresAPartialTail() {
    ByteBuffer b = ByteBuffer.allocate(3 * 48 + 20).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0, InFlightJournal.LIVE).putInt(4, 7).putLong(8, 1).putLong(16, 2);
    b.putLong(24, 4096).putLong(32, 100);
    // slot 1: answered (state 0) but with stale contents
    b.putInt(48 + 4, 8).putLong(48 + 24, 1);
    b.putInt(96, InFlightJournal.LIVE).putInt(100, 9).putLong(120, 0).putLong(128, 65536);
    b.putInt(144, InFlightJournal.LIVE); // partial slot
    Map<Integer, InFlightJournal.Entry> m = InFlightJournal.scan(b);
    assertEquals(List.of(0, 2), List.copyOf(m.keySet()));
    assertEquals(new InFlightJournal.Entry(7, new FileId(1, 2), 4096, 100), m.get(0));
    assertEquals(9, m.get(2).fd());

    ByteBuffer bad = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
    bad.putInt(0, InFlightJournal.LIVE).putInt(4, -5);
    assertThrows(IllegalArgumentException.class, () -> InFlightJournal.scan(bad));
  }

  @Test
  void survivesReopenAndReusesSlots() throws Exception {
    Path p = tmp.resolve("j");
    FileId f = new FileId(66, 1234);
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertTrue(j.recovered().isEmpty());
      j.add(new InFlightJournal.Entry(11, f, 0, 65536));
      j.add(new InFlightJournal.Entry(12, f, 65536, 4096));
      j.remove(11);
      // no close before reopening: a killed process leaves what it wrote
      InFlightJournal again = InFlightJournal.open(p);
      assertEquals(List.of(new InFlightJournal.Entry(12, f, 65536, 4096)), again.recovered());
      again.close();
    }
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertEquals(1, j.recovered().size());
      assertEquals(1, j.outstanding());
      for (int i = 0; i < 100; i++) {
        j.add(new InFlightJournal.Entry(20, f, i, 1));
        j.remove(20);
      }
      assertEquals(2 * 48, Files.size(p), "slots are reused, the file does not grow");
      j.remove(12);
      assertEquals(0, j.outstanding());
      assertTrue(j.live().isEmpty());
    }
    try (InFlightJournal j = InFlightJournal.open(p)) {
      assertTrue(j.recovered().isEmpty());
    }
  }
}
