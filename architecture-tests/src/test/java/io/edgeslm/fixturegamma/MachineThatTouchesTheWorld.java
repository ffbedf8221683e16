package io.edgeslm.fixturegamma;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Logger;

/**
 * Fixture: the deliberate violation, a state machine that decides with the world instead of its
 * arguments: it reads the clock, a file and a random number, starts a thread and an executor, and
 * logs. The purity rule must name each.
 */
public final class MachineThatTouchesTheWorld {
  private static final Logger LOG = Logger.getLogger("machine");

  public String step(Path staging) throws IOException {
    Instant now = Instant.now();
    long nanos = System.nanoTime();
    boolean there = Files.exists(staging);
    int dice = new Random().nextInt(6);
    Thread t = new Thread(() -> {});
    ExecutorService pool = Executors.newSingleThreadExecutor();
    pool.shutdown();
    LOG.info("stepped");
    return now + " " + nanos + " " + there + " " + dice + " " + t.getName();
  }
}
