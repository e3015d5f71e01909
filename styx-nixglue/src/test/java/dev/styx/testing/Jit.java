package dev.styx.testing;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/** Benchmark helper: lets the JIT settle so that timed code runs compiled, as in a warm daemon. */
public final class Jit {
  private Jit() {}

  /** Waits until the JIT compilers have been idle for 1 s (at most 30 s); returns nanos waited. */
  public static long awaitQuiet() throws InterruptedException {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    long t0 = System.nanoTime();
    long last = jit.getTotalCompilationTime();
    long quietSince = System.nanoTime();
    while (System.nanoTime() - quietSince < 1_000_000_000L
        && System.nanoTime() - t0 < 30_000_000_000L) {
      Thread.sleep(100);
      long now = jit.getTotalCompilationTime();
      if (now != last) {
        last = now;
        quietSince = System.nanoTime();
      }
    }
    return System.nanoTime() - t0;
  }
}
