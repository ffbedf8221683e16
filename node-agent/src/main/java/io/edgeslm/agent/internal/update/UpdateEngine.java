package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.AtomicFiles;
import io.edgeslm.agent.internal.store.Details;
import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.store.UpdateJournal;
import io.edgeslm.agent.internal.update.UpdateMachine.Effect;
import io.edgeslm.agent.internal.update.UpdateMachine.Event;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.JournalAck;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The shell around the {@link UpdateMachine}: the only update code that touches MQTT, files and the
 * model runtime. Inbound messages, effect outcomes and timer ticks become machine events; the
 * machine's effects run here, in order, on one thread ({@code update-engine}) with the injected
 * {@link Clock}. The one exception is the chunk transfer, which runs on its own thread ({@code
 * update-transfer}) so that commands and newer assignments are decided while it runs; its progress
 * and outcome come back as events.
 *
 * <p>USB side-loads enter through {@link #installFromDirectory} once the bundle is copied to
 * staging.
 */
public final class UpdateEngine implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(UpdateEngine.class.getName());
  private static final Pattern ASSIGNMENT_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private final ModelStore store;
  private final UpdateJournal journal;
  private final BundleGate gate;
  private final ModelRuntime runtime;
  private final UpdateLink link;
  private final NodeProfile profile;
  private final NodeTopics topics;
  private final UpdateSettings settings;
  private final Clock clock;
  private final UpdateMachine machine;
  private final ScheduledExecutorService worker =
      Executors.newSingleThreadScheduledExecutor(daemon("update-engine"));
  private final ExecutorService transfers =
      Executors.newSingleThreadExecutor(daemon("update-transfer"));
  private final Map<String, CompletableFuture<StoredModel>> sideLoads = new ConcurrentHashMap<>();
  private final Map<String, Consumer<UpdateMachine.UsbPhase>> sideLoadPhases =
      new ConcurrentHashMap<>();
  private final Set<String> cancelledTransfers = ConcurrentHashMap.newKeySet();
  private final List<String> finishedAtStart;
  private UpdateMachine.State state = UpdateMachine.State.initial();
  private volatile String current;
  private volatile ChunkDownloader download;
  private volatile String servingProblem;

  public UpdateEngine(
      ModelStore store,
      UpdateJournal journal,
      BundleGate gate,
      ModelRuntime runtime,
      UpdateLink link,
      NodeProfile profile,
      NodeTopics topics,
      UpdateSettings settings,
      Clock clock)
      throws IOException {
    this.store = store;
    this.journal = journal;
    this.gate = gate;
    this.runtime = runtime;
    this.link = link;
    this.profile = profile;
    this.topics = topics;
    this.settings = settings;
    this.clock = clock;
    this.machine = new UpdateMachine(profile, gate.trust(), settings);
    this.finishedAtStart = loadFinished();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Recovers and starts: reports an interrupted trial, serves the active model (rolling back if it
   * no longer loads), subscribes to assignments, commands, chunks and journal acknowledgements.
   */
  public void start() throws IOException {
    for (String note : store.recoveryNotes()) {
      LOG.info("Model store recovery: " + note);
    }
    UpdateMachine.Started started =
        new UpdateMachine.Started(
            store.pointer(), store.marks(), store.interruptedTrial().orElse(null), finishedAtStart);
    worker.execute(() -> dispatch(started));
    link.subscribe(topics.updateChunk(), 1, this::onChunk);
    link.subscribe(topics.updateAssignment(), 1, m -> onAssignment(m.payload()));
    link.subscribe(topics.updateCommand(), 1, m -> onCommand(m.payload()));
    link.subscribe(topics.journalAck(), 1, m -> onAck(m.payload()));
    link.onConnected(this::replayJournal);
    if (link.isConnected()) {
      replayJournal();
    }
  }

  /** The model serving now. */
  public Optional<StoredModel> active() {
    return store.active();
  }

  public ModelStore store() {
    return store;
  }

  public UpdateJournal journal() {
    return journal;
  }

  /** The update being worked on, if any. */
  public Optional<String> currentAssignment() {
    return Optional.ofNullable(current);
  }

  /** The download running now, for tests and metrics. */
  public Optional<ChunkDownloader> download() {
    return Optional.ofNullable(download);
  }

  /** Waits until everything queued on the engine thread so far has run. */
  public void awaitIdle(long timeoutMillis) throws Exception {
    Future<?> f = worker.submit(() -> {});
    f.get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Verifies a bundle directory already on the node's disk (a USB copy in staging), then installs,
   * activates and soaks it exactly like an MQTT update.
   *
   * @return completes with the activated model, or exceptionally with the {@link UpdateException}
   *     saying why not (the same reason code an MQTT result carries)
   */
  public Future<StoredModel> installFromDirectory(String id, Path bundleDir) {
    return installFromDirectory(id, bundleDir, p -> {});
  }

  /**
   * As {@link #installFromDirectory(String, Path)}, telling {@code onPhase} (on the engine thread)
   * each phase the update enters, as the machine decides it: verifying, installing, activating,
   * soaking (with the soak's end), restoring. The USB watcher writes them into the stick's
   * in-progress marker; {@code onPhase} must be quick and must not throw.
   */
  public Future<StoredModel> installFromDirectory(
      String id, Path bundleDir, Consumer<UpdateMachine.UsbPhase> onPhase) {
    CompletableFuture<StoredModel> f = new CompletableFuture<>();
    sideLoadPhases.put(id, onPhase);
    sideLoads.put(id, f);
    worker.execute(() -> dispatch(new UpdateMachine.UsbBundleFound(id, bundleDir)));
    return f;
  }

  // ---- inbound ----

  private void onChunk(UpdateLink.Message m) {
    ChunkDownloader d = download;
    if (d != null) {
      d.offer(m);
    }
  }

  private void onAssignment(byte[] payload) {
    if (payload.length == 0) {
      return; // the controller cleared the assignment
    }
    UpdateAssignment a;
    try {
      a = Json.read(payload, UpdateAssignment.class, UpdateAssignment.MAX_PAYLOAD_BYTES);
    } catch (InvalidPayloadException e) {
      Optional<String> id = assignmentIdOf(payload);
      LOG.warning(
          "Refusing an unreadable assignment " + id.orElse("(no id)") + ": " + e.getMessage());
      id.ifPresent(
          i ->
              worker.execute(
                  () -> dispatch(new UpdateMachine.AssignmentUnreadable(i, e.getMessage()))));
      return;
    }
    worker.execute(() -> dispatch(assignmentWithFacts(a)));
  }

  private UpdateMachine.AssignmentReceived assignmentWithFacts(UpdateAssignment a) {
    long free;
    long staged;
    try {
      free = store.usableBytes();
      staged = bytesAlreadyStaged(a.assignmentId());
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Cannot measure free space in " + store.root(), e);
      free = 0;
      staged = 0;
    }
    return new UpdateMachine.AssignmentReceived(a, link.maxPacketSize(), free, staged);
  }

  /**
   * The id of an assignment that failed to parse, if its JSON names a well-formed one: then the
   * controller learns why instead of waiting (nothing else of the payload is trusted).
   */
  private static Optional<String> assignmentIdOf(byte[] payload) {
    if (payload.length > UpdateAssignment.MAX_PAYLOAD_BYTES) {
      return Optional.empty();
    }
    try {
      String id = Json.mapper().readTree(payload).path("assignmentId").asText("");
      return ASSIGNMENT_ID.matcher(id).matches() ? Optional.of(id) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private void onCommand(byte[] payload) {
    UpdateCommand c;
    try {
      c = Json.read(payload, UpdateCommand.class);
    } catch (InvalidPayloadException e) {
      LOG.warning("Ignoring an unreadable update command: " + e.getMessage());
      return;
    }
    worker.execute(() -> dispatch(new UpdateMachine.CommandReceived(c)));
  }

  private void onAck(byte[] payload) {
    try {
      JournalAck ack = Json.read(payload, JournalAck.class);
      if (ack.nodeId().equals(profile.nodeId())) {
        journal.acknowledge(ack.upToSeq());
      }
    } catch (InvalidPayloadException | IOException e) {
      LOG.warning("Ignoring a journal acknowledgement: " + e.getMessage());
    }
  }

  /** Publishes every unacknowledged journal entry, in order, in batches. */
  public void replayJournal() {
    List<JournalEntry> all = journal.unacknowledged(UpdateJournal.MAX_UNACKED);
    for (int i = 0; i < all.size(); i += JournalBatch.MAX_ENTRIES) {
      List<JournalEntry> part = all.subList(i, Math.min(all.size(), i + JournalBatch.MAX_ENTRIES));
      try {
        link.publish(
            topics.journal(),
            Json.write(new JournalBatch(Protocol.SCHEMA_VERSION, profile.nodeId(), part)),
            1,
            false);
      } catch (IOException e) {
        return; // replayed again after the next connect
      }
    }
  }

  // ---- the machine and its effects (engine thread only) ----

  /** Steps the machine and runs its effects; an effect's outcome is dispatched at once. */
  private void dispatch(Event event) {
    Deque<Event> events = new ArrayDeque<>();
    events.add(event);
    while (!events.isEmpty()) {
      Event e = events.removeFirst();
      UpdateMachine.Step step;
      try {
        step = machine.step(state, e, clock.instant());
      } catch (RuntimeException bug) {
        LOG.log(Level.SEVERE, "The update machine failed on " + e, bug);
        continue;
      }
      state = step.state();
      current = state.currentId();
      for (Effect effect : step.effects()) {
        Event outcome = run(effect);
        if (outcome != null) {
          // An outcome is decided on before the step's remaining effects run; a failure cancels
          // them (an activation must not follow a trial the store could not begin).
          events.addLast(outcome);
          if (outcome instanceof UpdateMachine.Rejected) {
            break;
          }
        }
      }
    }
  }

  private void post(Event e) {
    try {
      worker.execute(() -> dispatch(e));
    } catch (java.util.concurrent.RejectedExecutionException stopped) {
      LOG.fine("Engine stopped; dropped " + e);
    }
  }

  /** Runs one effect; returns the event it produced, if any. */
  private Event run(Effect effect) {
    try {
      return switch (effect) {
        case UpdateMachine.Journal j -> {
          journal(j);
          yield null;
        }
        case UpdateMachine.PublishResult r -> {
          publishResult(r);
          yield null;
        }
        case UpdateMachine.PublishProgress p -> {
          publishProgress(p);
          yield null;
        }
        case UpdateMachine.PersistFinished f -> {
          persistFinished(f.ids());
          yield null;
        }
        case UpdateMachine.DiscardStaging d -> {
          quietly("discarding staging " + d.id(), () -> store.discardStaging(d.id()));
          yield null;
        }
        case UpdateMachine.DiscardOtherStaging d -> {
          quietly(
              "discarding other staging",
              () -> {
                for (String other : store.stagingIds()) {
                  if (!other.equals(d.keepId())) {
                    store.discardStaging(other); // one update at a time
                  }
                }
              });
          yield null;
        }
        case UpdateMachine.StartTransfer s -> {
          startTransfer(s.assignment());
          yield null;
        }
        case UpdateMachine.CancelTransfer c -> {
          cancelledTransfers.add(c.id());
          yield null;
        }
        case UpdateMachine.Verify v -> verify(v);
        case UpdateMachine.Install i -> {
          try {
            store.install(i.dir(), i.model());
            yield new UpdateMachine.Installed(i.id());
          } catch (IOException e) {
            yield new UpdateMachine.Rejected(
                i.id(), storageFailure("installing the verified bundle", e));
          }
        }
        case UpdateMachine.BeginTrial b -> {
          try {
            store.beginTrial(b.model(), b.id());
            yield null;
          } catch (IOException e) {
            yield new UpdateMachine.Rejected(b.id(), storageFailure("switching to the model", e));
          }
        }
        case UpdateMachine.Activate a -> activate(a);
        case UpdateMachine.Recheck r -> recheck(r.model());
        case UpdateMachine.ServeActive s -> serveActive(s.model());
        case UpdateMachine.Unload u -> {
          runtime.unload();
          yield null;
        }
        case UpdateMachine.NoteServingProblem p -> {
          servingProblem = Details.printable(p.detail(), 1000);
          LOG.severe(servingProblem);
          yield null;
        }
        case UpdateMachine.PutMark m -> {
          quietly("persisting the high-water mark", () -> store.putMark(m.track(), m.mark()));
          yield null;
        }
        case UpdateMachine.CommitTrial c -> {
          quietly("committing the trial", () -> store.commit(c.activationScore()));
          yield null;
        }
        case UpdateMachine.RollbackPointer r -> {
          quietly("moving the pointer back", () -> store.rollback());
          yield null;
        }
        case UpdateMachine.RestorePrevious r -> restorePrevious();
        case UpdateMachine.ForgetPrevious f -> {
          quietly("forgetting the previous model", store::forgetPrevious);
          yield null;
        }
        case UpdateMachine.SettleRecovery s -> {
          quietly("settling recovery", store::settleRecovery);
          yield null;
        }
        case UpdateMachine.ScheduleTick t -> {
          long ms = Math.max(0, Duration.between(clock.instant(), t.at()).toMillis());
          worker.schedule(
              () -> dispatch(new UpdateMachine.Tick(t.id())), ms, TimeUnit.MILLISECONDS);
          yield null;
        }
        case UpdateMachine.SampleHealth s -> new UpdateMachine.SoakSample(s.id(), runtime.sample());
        case UpdateMachine.UsbPhase p -> {
          Consumer<UpdateMachine.UsbPhase> c = sideLoadPhases.get(p.id());
          if (c != null) {
            try {
              c.accept(p);
            } catch (RuntimeException e) {
              LOG.log(Level.FINE, "Side-load phase listener failed", e); // never stops the update
            }
          }
          yield null;
        }
        case UpdateMachine.UsbDone u -> {
          sideLoadPhases.remove(u.id());
          CompletableFuture<StoredModel> f = sideLoads.remove(u.id());
          if (f != null) {
            if (u.model() != null) {
              f.complete(u.model());
            } else {
              f.completeExceptionally(u.error());
            }
          }
          yield null;
        }
      };
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "Update effect " + effect + " failed unexpectedly", e);
      String id = state.currentId();
      return id == null
          ? null
          : new UpdateMachine.Rejected(
              id,
              new UpdateException(
                  UpdateException.Fault.LOCAL, ReasonCode.INTERNAL, "Internal error: " + e, e));
    }
  }

  private interface StoreAction {
    void run() throws IOException;
  }

  private static void quietly(String what, StoreAction a) {
    try {
      a.run();
    } catch (IOException e) {
      LOG.log(Level.SEVERE, "Storage failed while " + what, e);
    }
  }

  private void startTransfer(UpdateAssignment a) {
    String id = a.assignmentId();
    cancelledTransfers.remove(id);
    transfers.execute(
        () -> {
          try (StagedTransfer t = StagedTransfer.open(store.stagingDir(id), a)) {
            post(new UpdateMachine.TransferStarted(id, t.resumed(), t.bytesHave()));
            ChunkDownloader d =
                new ChunkDownloader(t, link, topics.updateChunk(), settings.tuning());
            download = d;
            d.run(
                (done, total) -> post(new UpdateMachine.TransferProgress(id, done, total)),
                () -> cancelledTransfers.contains(id) || worker.isShutdown());
            // The transfer state stays until the install has discarded the whole staging
            // directory: a crash between the last chunk and the install then resumes with every
            // chunk held, instead of finding no state and fetching the bundle again.
            post(new UpdateMachine.BundleComplete(id, t.bundleDirectory(), d.corruptChunks()));
          } catch (UpdateException e) {
            post(new UpdateMachine.TransferFailed(id, e));
          } catch (IOException e) {
            post(new UpdateMachine.TransferFailed(id, storageFailure("the download", e)));
          } catch (RuntimeException e) {
            LOG.log(Level.SEVERE, "Download " + id + " failed unexpectedly", e);
            post(
                new UpdateMachine.TransferFailed(
                    id,
                    new UpdateException(
                        UpdateException.Fault.LOCAL,
                        ReasonCode.INTERNAL,
                        "Internal error: " + e,
                        e)));
          } finally {
            download = null;
          }
        });
  }

  private Event verify(UpdateMachine.Verify v) {
    try {
      return new UpdateMachine.Verified(
          v.id(),
          gate.verify(v.dir(), store.marks(), clock.instant(), v.activeDigest(), v.repairDigest()));
    } catch (UpdateException e) {
      return new UpdateMachine.Rejected(v.id(), e);
    }
  }

  private Event activate(UpdateMachine.Activate a) {
    StoredModel model = a.model();
    Path dir = store.directory(model);
    double baseline = runtime.sample().tokensPerSecond();
    // An adapter's activation check is the adapter bundle's own (it answers differently from the
    // base alone); a base model's is its own.
    StoredModel checked = model.adapter() == null ? model : model.adapter();
    Path checkDir = store.directory(checked);
    try {
      OptionalDouble score =
          runtime.activate(
              model.ref(),
              dir.resolve(model.modelFile()),
              adapter(model),
              Optional.ofNullable(checked.evaluationFile()).map(checkDir::resolve));
      return new UpdateMachine.Activated(a.id(), score, baseline, runtime.sample());
    } catch (UpdateException e) {
      return new UpdateMachine.ActivationFailed(a.id(), e);
    }
  }

  /**
   * Verifies a stored model again before it serves at boot or is rolled back to (see {@link
   * BundleGate#recheck}).
   */
  private Event recheck(StoredModel m) {
    long start = System.nanoTime();
    try {
      gate.recheck(store, m);
      LOG.info(
          "Verified the stored model "
              + m.describe()
              + " again in "
              + (System.nanoTime() - start) / 1_000_000
              + " ms");
      return new UpdateMachine.Rechecked(m, null);
    } catch (UpdateException e) {
      return new UpdateMachine.Rechecked(m, e);
    }
  }

  private Event serveActive(StoredModel m) {
    try {
      runtime.serve(
          m.ref(), store.directory(m).resolve(m.modelFile()), adapter(m), recordedScore(m));
      return null;
    } catch (UpdateException e) {
      LOG.log(Level.WARNING, "The active model " + m.describe() + " does not start", e);
      return new UpdateMachine.ServeFailed(e);
    }
  }

  /** Starts the previous model (or unloads) and moves the pointer back. */
  private Event restorePrevious() {
    try {
      Optional<StoredModel> prev = store.previous();
      if (prev.isPresent()) {
        StoredModel p = prev.get();
        runtime.serve(
            p.ref(), store.directory(p).resolve(p.modelFile()), adapter(p), recordedScore(p));
      } else {
        runtime.unload();
      }
      store.rollback();
    } catch (UpdateException | IOException e) {
      LOG.log(Level.SEVERE, "Rollback failed; serving no model", e);
      runtime.unload();
      quietly("rolling back", () -> store.rollback());
    }
    return new UpdateMachine.Restored(store.pointer());
  }

  /**
   * The adapter a pointer entry applies on top of its base, at scale 1.0; empty for a base alone.
   */
  private Optional<ModelRuntime.Adapter> adapter(StoredModel entry) {
    StoredModel a = entry.adapter();
    return a == null
        ? Optional.empty()
        : Optional.of(
            new ModelRuntime.Adapter(a.ref(), store.directory(a).resolve(a.modelFile()), 1.0));
  }

  private static OptionalDouble recordedScore(StoredModel m) {
    return m.activationScore() == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(m.activationScore());
  }

  /**
   * What is wrong with the model store, for the agent's health and status: a stored model that
   * failed its re-check at boot and is not served (the detail starts with the reason code).
   */
  public Optional<String> servingProblem() {
    return Optional.ofNullable(servingProblem);
  }

  // ---- reporting ----

  private void journal(UpdateMachine.Journal j) {
    JournalEntry e;
    try {
      e =
          journal.append(
              j.event(), j.assignmentId(), j.commandId(), j.model(), j.detail(), clock.instant());
    } catch (IOException io) {
      LOG.log(Level.WARNING, "Cannot journal " + j.event() + " of " + j.assignmentId(), io);
      return;
    }
    try {
      link.publish(
          topics.journal(),
          Json.write(new JournalBatch(Protocol.SCHEMA_VERSION, profile.nodeId(), List.of(e))),
          1,
          false);
    } catch (IOException offline) {
      // replayed after reconnect
    }
  }

  private void publishProgress(UpdateMachine.PublishProgress p) {
    try {
      UpdateProgress u =
          new UpdateProgress(
              Protocol.SCHEMA_VERSION,
              p.id(),
              p.phase(),
              p.bytesDone(),
              p.bytesTotal(),
              p.rate(),
              p.eta(),
              clock.instant());
      link.publish(topics.updateProgress(), Json.write(u), 0, false);
    } catch (IOException | IllegalArgumentException e) {
      // progress is best effort
    }
  }

  private void publishResult(UpdateMachine.PublishResult p) {
    try {
      link.publish(topics.updateResult(), Json.write(toWire(p, clock.instant())), 1, false);
    } catch (IOException | IllegalArgumentException e) {
      LOG.fine("Result not published now (the journal replays it): " + e.getMessage());
    }
  }

  /**
   * The wire form of a result: the reason escaped and bounded (it may quote model output), the code
   * and id bounded to what the protocol accepts.
   */
  static UpdateResult toWire(UpdateMachine.PublishResult p, java.time.Instant at) {
    String r = Details.printable(p.reason(), 1000);
    String c = p.reasonCode() == null ? null : p.reasonCode().code();
    String id = p.assignmentId();
    return new UpdateResult(
        Protocol.SCHEMA_VERSION,
        id != null && id.length() <= 128 ? id : null,
        p.commandId(),
        p.outcome(),
        p.model(),
        p.active(),
        c,
        r == null && p.outcome().needsReason() ? "unspecified" : r,
        p.score(),
        at);
  }

  // ---- finished ids ----

  private void persistFinished(List<String> ids) {
    try {
      AtomicFiles.write(store.root().resolve("finished.json"), Json.write(new ArrayList<>(ids)));
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Cannot persist finished update ids", e);
    }
  }

  private List<String> loadFinished() throws IOException {
    Path f = store.root().resolve("finished.json");
    if (!Files.exists(f)) {
      return List.of();
    }
    return List.of(Json.mapper().readValue(Files.readAllBytes(f), String[].class));
  }

  private long bytesAlreadyStaged(String id) throws IOException {
    if (!store.stagingIds().contains(id)) {
      return 0;
    }
    try (var s = Files.walk(store.root().resolve("staging").resolve(id))) {
      return s.filter(Files::isRegularFile)
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  /** Classifies a storage failure: a full disk gets its own reason code. */
  static UpdateException storageFailure(String what, IOException e) {
    String msg = String.valueOf(e.getMessage());
    boolean full =
        msg.contains("No space left")
            || msg.contains("Disk quota exceeded")
            || (e instanceof FileSystemException fse
                && String.valueOf(fse.getReason()).contains("No space"));
    return new UpdateException(
        UpdateException.Fault.LOCAL,
        full ? ReasonCode.DISK_FULL : ReasonCode.STORAGE_FAILED,
        (full ? "The disk filled up while " : "Storage failed while ")
            + what
            + ": "
            + msg
            + (full
                ? ". Free space on the node and retry the assignment; the current model keeps"
                    + " serving."
                : ". Check the data directory's file system; the current model keeps serving."),
        e);
  }

  /**
   * Stops: a running download stops, and a model still in its soak is neither committed nor rolled
   * back (the next start rolls it back and reports it, as after a power cut).
   */
  @Override
  public void close() {
    try {
      worker.submit(() -> dispatch(new UpdateMachine.Shutdown())).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.FINE, "Shutdown event not processed", e);
    }
    worker.shutdownNow();
    transfers.shutdownNow();
    try {
      worker.awaitTermination(10, TimeUnit.SECONDS);
      transfers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    UpdateException stopped =
        new UpdateException(
            UpdateException.Fault.LOCAL, ReasonCode.INTERRUPTED, "The agent stopped.");
    sideLoads.values().forEach(f -> f.completeExceptionally(stopped));
    sideLoads.clear();
    sideLoadPhases.clear();
  }
}
