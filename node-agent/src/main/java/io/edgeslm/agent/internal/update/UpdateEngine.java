package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.AtomicFiles;
import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.store.UpdateJournal;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.InvalidPayloadException;
import io.edgeslm.protocol.JournalAck;
import io.edgeslm.protocol.JournalBatch;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdatePhase;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.protocol.UpdateResult;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's update state machine, wired to the store, the journal, the gate, the runtime and MQTT.
 *
 * <pre>
 * assignment ─▶ checked ─▶ downloading ─▶ verifying ─▶ installed ─▶ activating ─▶ soaking ─▶ committed
 *                 │             │              │                        │             │
 *                 └─ rejected   └─ (kept for   └─ rejected              └─ rolled back ┘
 *                                  resume)
 * </pre>
 *
 * <p>Every step is journaled before it is reported. One update runs at a time, on the engine's own
 * thread; chunks are handed to the running download from the link's thread. USB side-loads enter at
 * "verifying" through {@link #installFromDirectory}. Rollback orders ({@code UpdateCommand}) are
 * executed once per command id.
 */
public final class UpdateEngine implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(UpdateEngine.class.getName());
  private static final int REMEMBERED_IDS = 64;

  private final ModelStore store;
  private final UpdateJournal journal;
  private final BundleGate gate;
  private final ModelRuntime runtime;
  private final UpdateLink link;
  private final NodeProfile profile;
  private final NodeTopics topics;
  private final UpdateSettings settings;
  private final Clock clock;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "update-engine");
            t.setDaemon(true);
            return t;
          });
  private final Deque<String> doneIds = new ArrayDeque<>();
  private volatile ChunkDownloader download;
  private volatile String currentAssignment;
  private volatile boolean cancelRequested;
  private volatile String rollbackOrdered;
  private volatile long lastProgressNanos;
  private volatile String lastRollback;
  private volatile boolean closing;

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
    loadDoneIds();
  }

  /**
   * Recovers and starts: serves the active model (rolling back if it no longer loads), journals
   * what recovery did, subscribes to assignments, commands, chunks and journal acknowledgements.
   */
  public void start() throws IOException {
    for (String note : store.recoveryNotes()) {
      LOG.info("Model store recovery: " + note);
    }
    Optional<io.edgeslm.agent.internal.store.StorePointer> trial = store.interruptedTrial();
    if (trial.isPresent()) {
      String id = trial.get().trialAssignmentId();
      String reason = "the agent restarted while the new model was on trial; rolled back";
      journal.append(
          JournalEvent.ROLLED_BACK, id, null, trial.get().active().ref(), reason, clock.instant());
      store.settleRecovery();
      remember(id);
      publishResult(
          id,
          null,
          UpdateOutcome.ROLLED_BACK,
          trial.get().active().ref(),
          "restarted_during_trial",
          reason,
          null);
    }
    worker.submit(this::serveActive);
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

  /** The assignment being worked on, if any. */
  public Optional<String> currentAssignment() {
    return Optional.ofNullable(currentAssignment);
  }

  /** The download running now, for tests and metrics. */
  public Optional<ChunkDownloader> download() {
    return Optional.ofNullable(download);
  }

  /** Runs {@code task} on the engine thread after everything queued, and waits for it. */
  public void awaitIdle(long timeoutMillis) throws Exception {
    Future<?> f = worker.submit(() -> {});
    f.get(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private void serveActive() {
    Optional<StoredModel> a = store.active();
    if (a.isEmpty()) {
      return;
    }
    try {
      runtime.activate(
          a.get().ref(), store.directory(a.get()).resolve(a.get().modelFile()), Optional.empty());
    } catch (UpdateException e) {
      LOG.log(Level.WARNING, "The active model " + a.get().describe() + " does not start", e);
      rollbackNow(
          null, null, "active model failed to start: " + e.getMessage(), "model_load_failed");
    }
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
      id.ifPresent(i -> worker.submit(() -> refuseUnreadable(i, e.getMessage())));
      return;
    }
    if (a.assignmentId().equals(currentAssignment)) {
      return;
    }
    String running = currentAssignment;
    if (running != null) {
      cancelRequested = true; // a newer assignment replaces the running download
    }
    worker.submit(() -> runAssignment(a));
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

  private static final java.util.regex.Pattern ASSIGNMENT_ID =
      java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private void refuseUnreadable(String id, String why) {
    synchronized (doneIds) {
      if (doneIds.contains(id)) {
        return;
      }
    }
    String reason =
        "The assignment cannot be read: "
            + why
            + " Nothing was downloaded; fix the assignment and publish it again under a new id.";
    try {
      journal(JournalEvent.REJECTED, id, null, "malformed_assignment: " + why);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Cannot journal the refusal of " + id, e);
    }
    remember(id);
    publishResult(id, null, UpdateOutcome.REJECTED, null, "malformed_assignment", reason, null);
  }

  private void onCommand(byte[] payload) {
    UpdateCommand c;
    try {
      c = Json.read(payload, UpdateCommand.class);
    } catch (InvalidPayloadException e) {
      LOG.warning("Ignoring an unreadable update command: " + e.getMessage());
      return;
    }
    synchronized (doneIds) {
      if (doneIds.contains("cmd:" + c.commandId())) {
        return;
      }
    }
    if (c.expiresAt() != null && !clock.instant().isBefore(c.expiresAt())) {
      return;
    }
    if (c.action() == CommandAction.CANCEL) {
      if (c.assignmentId() == null || c.assignmentId().equals(currentAssignment)) {
        cancelRequested = true;
      }
      worker.submit(() -> commandDone(c, UpdateOutcome.CANCELLED, null, "cancel ordered"));
      return;
    }
    rollbackOrdered = c.commandId();
    worker.submit(() -> orderedRollback(c));
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

  // ---- the MQTT update ----

  private void runAssignment(UpdateAssignment a) {
    String id = a.assignmentId();
    synchronized (doneIds) {
      if (doneIds.contains(id)) {
        return;
      }
    }
    currentAssignment = id;
    cancelRequested = false;
    try {
      journal(JournalEvent.ASSIGNED, id, a.model(), "bundle " + a.bundleId());
      preCheck(a);
      Path bundleDir = downloadBundle(a);
      progress(id, UpdatePhase.VERIFYING, a.totalBytes(), a.totalBytes(), true);
      BundleGate.Passed p = gate.verify(bundleDir, store.marks(), clock.instant());
      requireMatches(a, p);
      journal(JournalEvent.VERIFIED, id, p.model().ref(), "signature, trust and release policy");
      publishResult(id, null, UpdateOutcome.VERIFIED, p.model().ref(), null, null, null);
      install(bundleDir, p);
      store.discardStaging(id);
      activate(id, p);
    } catch (UpdateException e) {
      fail(id, a.model(), e);
    } catch (IOException e) {
      fail(id, a.model(), storageFailure("the update", e));
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "Update " + id + " failed unexpectedly", e);
      fail(
          id,
          a.model(),
          new UpdateException(UpdateException.Fault.LOCAL, "internal", "Internal error: " + e, e));
    } finally {
      download = null;
      currentAssignment = null;
    }
  }

  private void preCheck(UpdateAssignment a) throws UpdateException, IOException {
    ModelRef m = a.model();
    gate.precheck(m, store.marks(), clock.instant());
    long packet = link.maxPacketSize();
    if (packet != Long.MAX_VALUE && a.chunkBytes() + 1024L > packet) {
      throw new UpdateException(
          UpdateException.Fault.ARTIFACT,
          "chunk_too_large",
          "Chunks of "
              + a.chunkBytes()
              + " bytes do not fit the broker's maximum packet size of "
              + packet
              + " bytes. Assign a chunk size of at most "
              + (packet - 1024)
              + ".");
    }
    long need = 2 * a.totalBytes() + settings.diskMarginBytes();
    long free = store.usableBytes() + bytesAlreadyStaged(a.assignmentId());
    if (free < need) {
      throw new UpdateException(
          UpdateException.Fault.LOCAL,
          "disk_full",
          "Not enough disk space for bundle "
              + a.bundleId()
              + ": it needs "
              + need / (1 << 20)
              + " MiB (twice its "
              + a.totalBytes() / (1 << 20)
              + " MiB plus a margin), "
              + free / (1 << 20)
              + " MiB are free in "
              + store.root()
              + ". Free space on the node; the current model keeps serving.");
    }
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

  private Path downloadBundle(UpdateAssignment a) throws UpdateException, IOException {
    String id = a.assignmentId();
    for (String other : store.stagingIds()) {
      if (!other.equals(id)) {
        store.discardStaging(other); // one update at a time; a replaced assignment's data goes
      }
    }
    try (StagedTransfer t = StagedTransfer.open(store.stagingDir(id), a)) {
      journal(
          JournalEvent.DOWNLOAD_STARTED,
          id,
          a.model(),
          t.resumed() ? "resumed with " + t.bytesHave() + " bytes held" : "from the start");
      ChunkDownloader d = new ChunkDownloader(t, link, topics.updateChunk(), settings.tuning());
      download = d;
      d.run(
          (done, total) -> progress(id, UpdatePhase.DOWNLOADING, done, total, false),
          () -> cancelRequested);
      journal(
          JournalEvent.DOWNLOADED,
          id,
          a.model(),
          a.totalBytes() + " bytes; " + d.corruptChunks() + " corrupt chunks refused");
      // The transfer state stays until the install has discarded the whole staging directory:
      // a crash between the last chunk and the install then resumes with every chunk held,
      // instead of finding no state and fetching the bundle again.
      return t.bundleDirectory();
    }
  }

  private static void requireMatches(UpdateAssignment a, BundleGate.Passed p)
      throws UpdateException {
    ModelRef want = a.model();
    StoredModel got = p.model();
    boolean digestOk = want.digest() == null || want.digest().equals("sha256:" + got.digest());
    if (!want.name().equals(got.name()) || want.version() != got.version() || !digestOk) {
      throw new UpdateException(
          UpdateException.Fault.ARTIFACT,
          "assignment_mismatch",
          "The assignment announced "
              + want.name()
              + " v"
              + want.version()
              + " but the signed bundle is "
              + got.describe()
              + ". The controller sent the wrong bundle; nothing was installed.");
    }
  }

  // ---- install and activate (shared with USB) ----

  /**
   * Verifies a bundle directory that is already on the node's disk (a USB copy in staging) and
   * installs and activates it exactly like an MQTT update. Runs on the engine thread.
   *
   * @return the outcome: activated, or an exception saying why not
   */
  public Future<StoredModel> installFromDirectory(String id, Path bundleDir) {
    return worker.submit(
        () -> {
          currentAssignment = id;
          try {
            BundleGate.Passed p = gate.verify(bundleDir, store.marks(), clock.instant());
            journal(JournalEvent.VERIFIED, id, p.model().ref(), "side-loaded bundle verified");
            install(bundleDir, p);
            store.discardStaging(id);
            lastRollback = null;
            activate(id, p);
            if (!store.active().map(m -> m.digest().equals(p.model().digest())).orElse(false)) {
              String why = lastRollback == null ? "the new model was rolled back" : lastRollback;
              throw new UpdateException(UpdateException.Fault.MODEL, "rolled_back", why);
            }
            return p.model();
          } catch (UpdateException e) {
            if (e.fault() != UpdateException.Fault.MODEL) {
              journal(JournalEvent.REJECTED, id, null, e.reasonCode() + ": " + e.getMessage());
            }
            throw e;
          } finally {
            currentAssignment = null;
          }
        });
  }

  private void install(Path bundleDir, BundleGate.Passed p) throws UpdateException {
    try {
      store.install(bundleDir, p.model());
    } catch (IOException e) {
      throw storageFailure("installing the verified bundle", e);
    }
  }

  private void activate(String id, BundleGate.Passed p) throws UpdateException, IOException {
    StoredModel model = p.model();
    if (store.active().map(m -> m.digest().equals(model.digest())).orElse(false)) {
      store.putMark(p.release().track(), gate.nextMark(store.marks(), p));
      remember(id);
      publishResult(id, null, UpdateOutcome.ACTIVATED, model.ref(), null, null, null);
      return;
    }
    progress(id, UpdatePhase.ACTIVATING, 0, 0, true);
    double baseline = runtime.sample().tokensPerSecond();
    store.beginTrial(model, id);
    OptionalDouble score;
    Path dir = store.directory(model);
    try {
      score =
          runtime.activate(
              model.ref(),
              dir.resolve(model.modelFile()),
              Optional.ofNullable(model.evaluationFile()).map(dir::resolve));
    } catch (UpdateException e) {
      // The runtime kept the previous model serving (or none was there): only the pointer moves.
      store.rollback();
      remember(id);
      lastRollback = e.reasonCode() + ": " + e.getMessage();
      journal(JournalEvent.ROLLED_BACK, id, model.ref(), e.reasonCode() + ": " + e.getMessage());
      publishResult(
          id, null, UpdateOutcome.ROLLED_BACK, model.ref(), e.reasonCode(), e.getMessage(), null);
      return;
    }
    Double s = score.isPresent() ? score.getAsDouble() : null;
    Optional<String> failure = soak(id, baseline);
    if (closing) {
      // Neither commit nor roll back while the agent stops: the pointer stays on trial, and the
      // next start rolls it back and reports it (restarted_during_trial), as after a power cut.
      LOG.info("The agent stops during the soak of " + model.describe() + "; trial left open");
      return;
    }
    if (failure.isPresent()) {
      String reason = failure.get();
      String code = reason.startsWith("rollback ordered") ? "rollback_ordered" : "soak_failed";
      rollbackNow(id, model.ref(), reason, code);
      return;
    }
    store.putMark(p.release().track(), gate.nextMark(store.marks(), p));
    store.commit();
    remember(id);
    journal(
        JournalEvent.ACTIVATED, id, model.ref(), s == null ? "no activation check" : "score " + s);
    publishResult(id, null, UpdateOutcome.ACTIVATED, model.ref(), null, null, s);
  }

  private Optional<String> soak(String id, double baseline) {
    long end = System.nanoTime() + settings.soak().toNanos();
    SoakJudge judge = new SoakJudge(settings.limits(), runtime.sample(), baseline);
    while (System.nanoTime() < end) {
      progress(id, UpdatePhase.SOAKING, 0, 0, false);
      long wait = Math.min(settings.soakSample().toMillis(), (end - System.nanoTime()) / 1_000_000);
      if (sleepOrRollback(Math.max(1, wait))) {
        return Optional.of("rollback ordered by command " + rollbackOrdered);
      }
      Optional<String> bad = judge.judge(runtime.sample());
      if (bad.isPresent()) {
        return bad;
      }
    }
    return judge.judge(runtime.sample());
  }

  private boolean sleepOrRollback(long millis) {
    long until = System.nanoTime() + millis * 1_000_000;
    while (System.nanoTime() < until) {
      if (rollbackOrdered != null || closing) {
        return true;
      }
      try {
        Thread.sleep(Math.min(50, millis));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return true;
      }
    }
    return rollbackOrdered != null;
  }

  /** Restores the previous model (in the runtime and the pointer) and reports why. */
  private void rollbackNow(String id, ModelRef from, String reason, String code) {
    try {
      Optional<StoredModel> prev = store.previous();
      if (prev.isPresent()) {
        StoredModel p = prev.get();
        runtime.activate(p.ref(), store.directory(p).resolve(p.modelFile()), Optional.empty());
      } else {
        runtime.unload();
      }
      store.rollback();
    } catch (UpdateException | IOException e) {
      LOG.log(Level.SEVERE, "Rollback failed; serving no model", e);
      runtime.unload();
      try {
        store.rollback();
      } catch (IOException ignored) {
        // the pointer stays at the failed model only if the disk is gone
      }
    }
    lastRollback = code + ": " + reason;
    ModelRef ref = from != null ? from : store.active().map(StoredModel::ref).orElse(null);
    try {
      journal(JournalEvent.ROLLED_BACK, id, ref, code + ": " + reason);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Cannot journal the rollback", e);
    }
    if (id != null) {
      remember(id);
      publishResult(id, null, UpdateOutcome.ROLLED_BACK, ref, code, reason, null);
    }
  }

  private void orderedRollback(UpdateCommand c) {
    String cmd = c.commandId();
    if (!cmd.equals(rollbackOrdered)) {
      return;
    }
    rollbackOrdered = null;
    try {
      journal.append(JournalEvent.COMMAND_RECEIVED, null, cmd, null, "rollback", clock.instant());
    } catch (IOException e) {
      LOG.log(Level.WARNING, "Cannot journal the command", e);
    }
    Optional<StoredModel> from = store.active();
    if (store.previous().isEmpty() || from.isEmpty()) {
      commandDone(
          c,
          UpdateOutcome.REJECTED,
          "no_previous_model",
          "There is no previous model to roll back to.");
      return;
    }
    rollbackNow(
        null,
        from.get().ref(),
        "rollback ordered: " + (c.reason() == null ? "" : c.reason()),
        "rollback_ordered");
    commandDone(
        c, UpdateOutcome.ROLLED_BACK, "rollback_ordered", "rollback ordered by command " + cmd);
  }

  private void commandDone(UpdateCommand c, UpdateOutcome outcome, String code, String reason) {
    remember("cmd:" + c.commandId());
    // The result names the model serving, or none on a node without a verified model.
    publishResult(
        null,
        c.commandId(),
        outcome,
        store.active().map(StoredModel::ref).orElse(null),
        code,
        reason,
        null);
  }

  private void fail(String id, ModelRef model, UpdateException e) {
    boolean keep =
        e.fault() == UpdateException.Fault.TRANSFER && !"cancelled".equals(e.reasonCode());
    UpdateOutcome outcome =
        "cancelled".equals(e.reasonCode()) ? UpdateOutcome.CANCELLED : UpdateOutcome.REJECTED;
    try {
      journal(
          outcome == UpdateOutcome.CANCELLED ? JournalEvent.CANCELLED : JournalEvent.REJECTED,
          id,
          model,
          e.reasonCode() + ": " + e.getMessage());
      if (!keep) {
        store.discardStaging(id);
        remember(id);
      }
    } catch (IOException io) {
      LOG.log(Level.WARNING, "Cannot journal the failure of " + id, io);
    }
    publishResult(id, null, outcome, model, e.reasonCode(), e.getMessage(), null);
  }

  // ---- reporting ----

  private void journal(JournalEvent event, String id, ModelRef model, String detail)
      throws IOException {
    JournalEntry e = journal.append(event, id, null, model, detail, clock.instant());
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

  private void progress(String id, UpdatePhase phase, long done, long total, boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastProgressNanos < UpdateProgress.MIN_INTERVAL_MS * 1_000_000) {
      return;
    }
    lastProgressNanos = now;
    ChunkDownloader d = download;
    Long rate = null;
    Long eta = null;
    if (phase == UpdatePhase.DOWNLOADING && d != null) {
      rate = rateMeter.rate(done, now);
      eta = rate != null && rate > 0 ? (total - done) / rate : null;
    }
    try {
      UpdateProgress p =
          new UpdateProgress(
              Protocol.SCHEMA_VERSION, id, phase, done, total, rate, eta, clock.instant());
      link.publish(topics.updateProgress(), Json.write(p), 0, false);
    } catch (IOException | IllegalArgumentException e) {
      // progress is best effort
    }
  }

  private final RateMeter rateMeter = new RateMeter();

  /** Bytes per second over the last progress interval. */
  private static final class RateMeter {
    private long lastBytes = -1;
    private long lastNanos;

    synchronized Long rate(long bytes, long now) {
      Long r = null;
      if (lastBytes >= 0 && now > lastNanos && bytes >= lastBytes) {
        r = (bytes - lastBytes) * 1_000_000_000L / (now - lastNanos);
      }
      lastBytes = bytes;
      lastNanos = now;
      return r;
    }
  }

  private void publishResult(
      String id,
      String commandId,
      UpdateOutcome outcome,
      ModelRef model,
      String code,
      String reason,
      Double score) {
    if (id == null && commandId == null) {
      return;
    }
    String r = reason == null || reason.length() <= 1000 ? reason : reason.substring(0, 999) + "…";
    String c = code == null ? null : code.length() > 64 ? code.substring(0, 64) : code;
    try {
      UpdateResult res =
          new UpdateResult(
              Protocol.SCHEMA_VERSION,
              id != null && id.length() <= 128 ? id : null,
              commandId,
              outcome,
              model,
              store.active().map(StoredModel::ref).orElse(null),
              c,
              r == null && outcome.needsReason() ? "unspecified" : r,
              score,
              clock.instant());
      link.publish(topics.updateResult(), Json.write(res), 1, false);
    } catch (IOException | IllegalArgumentException e) {
      LOG.fine("Result not published now (the journal replays it): " + e.getMessage());
    }
  }

  // ---- finished ids ----

  private void remember(String id) {
    if (id == null) {
      return;
    }
    synchronized (doneIds) {
      doneIds.remove(id);
      doneIds.addLast(id);
      while (doneIds.size() > REMEMBERED_IDS) {
        doneIds.removeFirst();
      }
      try {
        AtomicFiles.write(
            store.root().resolve("finished.json"), Json.write(new ArrayList<>(doneIds)));
      } catch (IOException e) {
        LOG.log(Level.WARNING, "Cannot persist finished update ids", e);
      }
    }
  }

  private void loadDoneIds() throws IOException {
    Path f = store.root().resolve("finished.json");
    if (Files.exists(f)) {
      String[] ids = Json.mapper().readValue(Files.readAllBytes(f), String[].class);
      doneIds.addAll(List.of(ids));
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
        full ? "disk_full" : "storage_failed",
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

  @Override
  public void close() {
    closing = true;
    cancelRequested = true;
    worker.shutdownNow();
    try {
      worker.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
