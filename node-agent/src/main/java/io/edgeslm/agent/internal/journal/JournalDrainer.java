package io.edgeslm.agent.internal.journal;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Publishes the journal's entries, oldest first, one at a time: an entry is removed only after its
 * publish was acknowledged, and the next is sent only then, so the broker sees them in journal
 * order. Stops at the first failure and resumes on the next {@link #signal()} (a reconnect or a new
 * entry).
 */
public final class JournalDrainer implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(JournalDrainer.class);

  private final Journal journal;
  private final Function<Journal.Entry, CompletableFuture<Void>> publisher;
  private final BooleanSupplier connected;
  private final Duration ackTimeout;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "journal-drainer");
            t.setDaemon(true);
            return t;
          });
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicLong published = new AtomicLong();

  public JournalDrainer(
      Journal journal,
      Function<Journal.Entry, CompletableFuture<Void>> publisher,
      BooleanSupplier connected,
      Duration ackTimeout) {
    this.journal = Objects.requireNonNull(journal, "journal");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.connected = Objects.requireNonNull(connected, "connected");
    this.ackTimeout = Objects.requireNonNull(ackTimeout, "ackTimeout");
  }

  /** Asks for a drain pass; passes never overlap and a signal during a pass causes another. */
  public void signal() {
    if (pending.compareAndSet(false, true)) {
      try {
        worker.execute(this::drain);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        pending.set(false); // closed
      }
    }
  }

  /** Entries published and removed since start. */
  public long published() {
    return published.get();
  }

  private void drain() {
    pending.set(false);
    while (connected.getAsBoolean()) {
      Optional<Journal.Entry> next = journal.oldest();
      if (next.isEmpty()) {
        return;
      }
      Journal.Entry entry = next.get();
      try {
        publisher.apply(entry).get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException | TimeoutException e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        LOG.debugf("Journal entry %d not delivered yet: %s", entry.seq(), cause.getMessage());
        return; // the next reconnect signals again
      }
      try {
        journal.remove(entry.seq());
        published.incrementAndGet();
      } catch (IOException e) {
        LOG.errorf(
            "Journal entry %d was delivered but cannot be removed (%s); it will be sent again."
                + " Check the journal directory's permissions and free space.",
            entry.seq(), e.getMessage());
        return;
      }
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
  }
}
