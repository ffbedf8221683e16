package io.edgeslm.fleet.internal.ingest;

import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.internal.store.BirthEvent;
import io.edgeslm.fleet.internal.store.HealthSample;
import io.edgeslm.fleet.internal.store.NodeStore;
import io.edgeslm.fleet.internal.store.StatusEvent;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Writes registry messages in batches: handlers queue them and {@code writers} threads each store
 * up to {@code batchSize} per transaction, waiting up to 100 ms for a batch to fill (one commit per
 * batch instead of per message is what lets one controller keep up with a large fleet). A node's
 * messages always go to the same writer (by its id), so writers never touch the same rows and one
 * node's messages are written in the order they arrived; while one writer waits for the database
 * another prepares its batch. Health is QoS 0 with cumulative counters, so when its writer's queue
 * is full a message is dropped (and counted) rather than slowing the broker connection. Births and
 * statuses are never dropped: their queue blocks the handler, which pushes back on the broker
 * connection.
 */
public final class HealthWriter implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(HealthWriter.class);

  /**
   * How long a batch may wait to fill once its first message arrived. Without it a trickle of
   * messages is written nearly one per transaction, and each transaction costs the same few
   * statements whatever its size; 100 ms adds at most that to the ingest lag.
   */
  static final long LINGER_NANOS = 100_000_000L;

  private final NodeStore nodes;
  private final Clock clock;
  private final Shard[] shards;
  private final int batchSize;
  private final LagStats lag = new LagStats();
  private final AtomicLong stored = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean running = true;

  /** One writer thread and its queues. */
  private final class Shard {
    final BlockingQueue<HealthSample> queue;
    final BlockingQueue<Object> presence;
    final Thread thread;

    Shard(int index, int capacity, int presenceCapacity) {
      queue = new ArrayBlockingQueue<>(capacity);
      presence = new ArrayBlockingQueue<>(presenceCapacity);
      thread = new Thread(() -> loop(this), "fleet-health-writer-" + index);
      thread.setDaemon(true);
    }
  }

  /** One writer thread; {@code capacity} health messages may wait. */
  public HealthWriter(NodeStore nodes, Clock clock, int capacity, int batchSize) {
    this(nodes, clock, capacity, batchSize, 1);
  }

  /**
   * @param capacity health messages that may wait, in all (each writer takes its share)
   * @param writers writer threads, each with its own transaction
   */
  public HealthWriter(NodeStore nodes, Clock clock, int capacity, int batchSize, int writers) {
    if (writers < 1 || writers > 64) {
      throw new IllegalArgumentException(
          "fleet.health.writers must be 1 to 64: got " + writers + ". 2 suits most installations.");
    }
    this.nodes = nodes;
    this.clock = clock;
    this.batchSize = batchSize;
    this.shards = new Shard[writers];
    for (int i = 0; i < writers; i++) {
      shards[i] = new Shard(i, Math.max(1, capacity / writers), Math.max(1, 100_000 / writers));
    }
    for (Shard sh : shards) {
      sh.thread.start();
    }
  }

  private Shard shard(String nodeId) {
    return shards[shards.length == 1 ? 0 : Math.floorMod(nodeId.hashCode(), shards.length)];
  }

  /** Queues a message; false (and counted as dropped) when its writer's queue is full. */
  public boolean offer(HealthSample s) {
    if (shard(s.nodeId()).queue.offer(s)) {
      return true;
    }
    dropped.incrementAndGet();
    return false;
  }

  /** Queues a birth or status event; waits while its writer's queue is full. */
  public void put(Object birthOrStatus) throws InterruptedException {
    String nodeId =
        switch (birthOrStatus) {
          case BirthEvent b -> b.nodeId();
          case StatusEvent s -> s.nodeId();
          default -> throw new IllegalArgumentException("not a birth or status: " + birthOrStatus);
        };
    shard(nodeId).presence.put(birthOrStatus);
  }

  private void loop(Shard sh) {
    BlockingQueue<HealthSample> queue = sh.queue;
    BlockingQueue<Object> presence = sh.presence;
    List<HealthSample> batch = new ArrayList<>(batchSize);
    List<Object> events = new ArrayList<>(batchSize);
    while (running || !queue.isEmpty() || !presence.isEmpty()) {
      try {
        if (queue.isEmpty() && presence.isEmpty()) {
          Thread.sleep(5);
          continue;
        }
        long until = System.nanoTime() + LINGER_NANOS;
        while (running
            && queue.size() < batchSize
            && presence.size() < batchSize
            && System.nanoTime() < until) {
          Thread.sleep(5);
        }
        presence.drainTo(events, batchSize);
        queue.drainTo(batch, batchSize);
        write(events, batch);
      } catch (InterruptedException e) {
        if (!running) {
          break;
        }
      } finally {
        batch.clear();
        events.clear();
      }
    }
  }

  private void write(List<Object> events, List<HealthSample> batch) {
    List<BirthEvent> births = new ArrayList<>();
    List<StatusEvent> statuses = new ArrayList<>();
    for (Object e : events) {
      if (e instanceof BirthEvent b) {
        births.add(b);
      } else {
        statuses.add((StatusEvent) e);
      }
    }
    for (int attempt = 1; ; attempt++) {
      try {
        nodes.recordBatch(births, statuses, batch);
        long now = clock.millis();
        for (HealthSample s : batch) {
          lag.record(now - s.health().at().toEpochMilli());
        }
        stored.addAndGet(batch.size());
        return;
      } catch (FleetStorageException e) {
        failures.incrementAndGet();
        if (attempt >= 3 || !running) {
          LOG.warnf(
              "dropping %d health and %d presence messages: %s",
              batch.size(), events.size(), e.getMessage());
          dropped.addAndGet(batch.size());
          return;
        }
        // Two replicas writing the same nodes may deadlock or conflict; a retry resolves it.
        try {
          Thread.sleep(50L * attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Lag from a message's {@code at} to its commit, in ms. */
  public LagStats lag() {
    return lag;
  }

  public long stored() {
    return stored.get();
  }

  public long dropped() {
    return dropped.get();
  }

  public long failures() {
    return failures.get();
  }

  public int queued() {
    int n = 0;
    for (Shard sh : shards) {
      n += sh.queue.size() + sh.presence.size();
    }
    return n;
  }

  /** Writer threads. */
  public int writers() {
    return shards.length;
  }

  @Override
  public void close() {
    running = false;
    try {
      for (Shard sh : shards) {
        sh.thread.join(10_000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
