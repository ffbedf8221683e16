package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.StorePointer;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.protocol.CommandAction;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateCommand;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdatePhase;
import io.edgeslm.protocol.UpdateProgress;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.PolicyException;
import io.edgeslm.signing.ReleasePolicy;
import io.edgeslm.signing.ReleaseTrack;
import io.edgeslm.signing.TrustStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * The node's update decisions as a pure state machine: {@link #step} takes a {@link State}, an
 * {@link Event} and the time, and returns the next state with the {@link Effect}s it implies. It
 * reads no clock, touches no file, link or engine and starts no thread; the {@link UpdateEngine}
 * runs the effects on one thread and feeds their outcomes back as events, as the controller runs
 * its {@code RolloutEngine}.
 *
 * <pre>
 * assignment ─▶ checked ─▶ downloading ─▶ verifying ─▶ installed ─▶ activating ─▶ soaking ─▶ committed
 *                 │             │              │                        │             │
 *                 └─ rejected   └─ (kept for   └─ rejected              └─ rolled back ┘
 *                                  resume)
 * USB bundle (copied to staging) ─────────────▶ verifying ─▶ …
 * </pre>
 *
 * <p>One update runs at a time; work that arrives meanwhile waits in a bounded queue (a newer
 * assignment replaces a running download and any queued assignment). Every step is journaled before
 * it is reported. Assignment and command ids are done once ({@value #REMEMBERED_IDS} remembered,
 * persisted).
 *
 * <p>An assignment that ends without its model committed (rejected, cancelled, rolled back) ends in
 * this order: its end is journaled (the durable report the controller gets by replay), its id is
 * persisted as finished, its result is published, and only then does the store let go of it (the
 * pointer leaves the trial, staging is discarded). A power cut between any two of these repeats the
 * end at the next start or finds it finished, never neither: an assignment whose pointer or staging
 * is gone is never fetched again. Retrying is the controller's decision.
 */
public final class UpdateMachine {

  static final int REMEMBERED_IDS = 64;
  static final int MAX_QUEUED = 16;

  private final NodeProfile profile;
  private final TrustStore trust;
  private final UpdateSettings settings;

  public UpdateMachine(NodeProfile profile, TrustStore trust, UpdateSettings settings) {
    this.profile = Objects.requireNonNull(profile, "profile");
    this.trust = Objects.requireNonNull(trust, "trust");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  // ---- state ----

  /** Where an update came from. */
  public enum Source {
    MQTT,
    USB
  }

  /** The phase of the running update. */
  public enum Phase {
    DOWNLOADING,
    VERIFYING,
    INSTALLING,
    ACTIVATING,
    SOAKING,
    RESTORING
  }

  /**
   * The running (or queued) update.
   *
   * @param assignment the MQTT assignment, or null for a USB bundle
   * @param dir the bundle directory to verify (USB: known at once; MQTT: after the download)
   * @param passed the verified bundle, from {@code VERIFIED} on
   * @param soak the judge and end of the soak, while soaking
   * @param progressAt when progress was last published, or null
   * @param progressBytes bytes held at {@code progressAt}
   * @param cancelled a cancel or a newer assignment stopped its download
   */
  public record Job(
      String id,
      Source source,
      UpdateAssignment assignment,
      Path dir,
      Phase phase,
      BundleGate.Passed passed,
      Soak soak,
      Instant progressAt,
      long progressBytes,
      boolean cancelled) {

    static Job mqtt(UpdateAssignment a) {
      return new Job(
          a.assignmentId(), Source.MQTT, a, null, Phase.DOWNLOADING, null, null, null, 0, false);
    }

    static Job usb(String id, Path dir) {
      return new Job(id, Source.USB, null, dir, Phase.VERIFYING, null, null, null, 0, false);
    }

    Job phase(Phase p) {
      return new Job(
          id, source, assignment, dir, p, passed, soak, progressAt, progressBytes, cancelled);
    }

    Job withDir(Path d) {
      return new Job(
          id, source, assignment, d, phase, passed, soak, progressAt, progressBytes, cancelled);
    }

    Job withPassed(BundleGate.Passed p) {
      return new Job(
          id, source, assignment, dir, phase, p, soak, progressAt, progressBytes, cancelled);
    }

    Job withSoak(Soak s) {
      return new Job(
          id, source, assignment, dir, phase, passed, s, progressAt, progressBytes, cancelled);
    }

    Job withProgress(Instant at, long bytes) {
      return new Job(id, source, assignment, dir, phase, passed, soak, at, bytes, cancelled);
    }

    Job cancel() {
      return new Job(
          id, source, assignment, dir, phase, passed, soak, progressAt, progressBytes, true);
    }

    /** The model the update is about: the signed one once verified, else the announced one. */
    ModelRef model() {
      if (passed != null) {
        return passed.model().ref();
      }
      return assignment == null ? null : assignment.model();
    }
  }

  /** The soak of a model on trial: its judge, when it ends, and its activation check's score. */
  public record Soak(SoakJudge judge, Instant end, Double score) {}

  /**
   * What a rollback that is waiting for the runtime will report once the previous model serves.
   *
   * @param assignmentId the trial's update, or null (a committed model rolled back)
   * @param command the rollback order, or null
   */
  public record Restore(
      String assignmentId, ModelRef from, ReasonCode code, String reason, UpdateCommand command) {}

  /**
   * The machine's whole state.
   *
   * @param pointer the store's pointer as the machine last set or learned it
   * @param marks the high-water marks as last persisted
   * @param job the running update, or null
   * @param queue updates waiting for the running one, oldest first ({@link AssignmentReceived} or
   *     {@link UsbBundleFound})
   * @param finished ids done (assignments, {@code cmd:} + command ids), oldest first
   * @param restoring the report pending until the previous model serves again, or null
   * @param closing the agent is stopping
   * @param repairable the digest of the committed model the boot re-check dropped (its copy on disk
   *     went bad), or null: a side-loaded bundle byte for byte that release (the operator's seed
   *     bundle, a stick) is a repair, not a rollback below the mark that release set
   */
  public record State(
      StorePointer pointer,
      Map<ReleaseTrack, HighWaterMark> marks,
      Job job,
      List<Event> queue,
      List<String> finished,
      Restore restoring,
      boolean closing,
      String repairable) {

    public State {
      Objects.requireNonNull(pointer, "pointer");
      marks = Map.copyOf(marks);
      queue = List.copyOf(queue);
      finished = List.copyOf(finished);
    }

    /** The state before {@link Started}. */
    public static State initial() {
      return new State(StorePointer.EMPTY, Map.of(), null, List.of(), List.of(), null, false, null);
    }

    /** The assignment being worked on, if any. */
    public String currentId() {
      return job == null ? null : job.id();
    }
  }

  /** The next state and what to do. */
  public record Step(State state, List<Effect> effects) {}

  // ---- events ----

  /** Something that happened: a message, the outcome of an effect, or time passing. */
  public sealed interface Event {}

  /**
   * The agent started, after the store's recovery.
   *
   * @param interruptedTrial the pointer found on trial (rolled back by recovery), or null
   */
  public record Started(
      StorePointer pointer,
      Map<ReleaseTrack, HighWaterMark> marks,
      StorePointer interruptedTrial,
      List<String> finished)
      implements Event {}

  /**
   * An assignment arrived, with the node facts its checks need.
   *
   * @param maxPacketBytes the broker's maximum packet size ({@link Long#MAX_VALUE}: unlimited)
   * @param freeBytes usable bytes in the store
   * @param stagedBytes bytes already staged for this assignment (a resume reuses them)
   */
  public record AssignmentReceived(
      UpdateAssignment assignment, long maxPacketBytes, long freeBytes, long stagedBytes)
      implements Event {}

  /** An assignment that does not parse but names a well-formed id. */
  public record AssignmentUnreadable(String assignmentId, String why) implements Event {}

  public record CommandReceived(UpdateCommand command) implements Event {}

  /** A bundle copied from a stick into staging directory {@code dir}. */
  public record UsbBundleFound(String id, Path dir) implements Event {}

  /** The staged transfer opened. */
  public record TransferStarted(String id, boolean resumed, long bytesHeld) implements Event {}

  public record TransferProgress(String id, long bytesDone, long bytesTotal) implements Event {}

  /** Every chunk is held and forced; the bundle is in {@code dir}. */
  public record BundleComplete(String id, Path dir, long corruptChunks) implements Event {}

  public record TransferFailed(String id, UpdateException error) implements Event {}

  /** The bundle passed signature, trust and release policy. */
  public record Verified(String id, BundleGate.Passed passed) implements Event {}

  /** Verification refused the bundle, or a storage step failed. */
  public record Rejected(String id, UpdateException error) implements Event {}

  public record Installed(String id) implements Event {}

  /**
   * The new model serves.
   *
   * @param baselineTokensPerSecond the previous model's speed just before the switch
   * @param start the health sample right after the switch
   */
  public record Activated(
      String id, OptionalDouble score, double baselineTokensPerSecond, ModelRuntime.Sample start)
      implements Event {}

  /** The new model did not start or failed its check; the previous one still serves. */
  public record ActivationFailed(String id, UpdateException error) implements Event {}

  /** A scheduled tick of update {@code id}. */
  public record Tick(String id) implements Event {}

  public record SoakSample(String id, ModelRuntime.Sample sample) implements Event {}

  /** The previous model serves again (or none); {@code pointer} is the store's now. */
  public record Restored(StorePointer pointer) implements Event {}

  /** The active model no longer starts at boot. */
  public record ServeFailed(UpdateException error) implements Event {}

  /**
   * The stored model was verified again at boot ({@link Recheck}).
   *
   * @param error why it no longer verifies ({@code tampered}: a file changed on disk; {@code
   *     untrusted_key}: its signer is no longer in the trust store), or null when it verifies
   */
  public record Rechecked(StoredModel model, UpdateException error) implements Event {}

  public record Shutdown() implements Event {}

  // ---- effects ----

  /** Something for the shell to do. */
  public sealed interface Effect {}

  /** Appends to the update journal (durably) and publishes the entry. */
  public record Journal(
      JournalEvent event, String assignmentId, String commandId, ModelRef model, String detail)
      implements Effect {}

  /** Publishes an {@code UpdateResult} (for an assignment or a command). */
  public record PublishResult(
      String assignmentId,
      String commandId,
      UpdateOutcome outcome,
      ModelRef model,
      ModelRef active,
      ReasonCode reasonCode,
      String reason,
      Double score)
      implements Effect {}

  public record PublishProgress(
      String id, UpdatePhase phase, long bytesDone, long bytesTotal, Long rate, Long eta)
      implements Effect {}

  /** Persists the finished ids. */
  public record PersistFinished(List<String> ids) implements Effect {}

  public record DiscardStaging(String id) implements Effect {}

  /** Deletes every staging directory but {@code keepId}'s (one update at a time). */
  public record DiscardOtherStaging(String keepId) implements Effect {}

  /** Opens the staged transfer and fetches the missing chunks, in the background. */
  public record StartTransfer(UpdateAssignment assignment) implements Effect {}

  public record CancelTransfer(String id) implements Effect {}

  /**
   * Verifies the bundle in {@code dir}.
   *
   * @param activeDigest the committed serving model's digest for a USB bundle (one identical to it
   *     is not a new attempt), else null
   * @param repairDigest for a USB bundle, {@link State#repairable} (one identical to it passes on
   *     its signature and trust, as at the boot re-check), else null
   */
  public record Verify(String id, Path dir, String activeDigest, String repairDigest)
      implements Effect {}

  public record Install(String id, Path dir, StoredModel model) implements Effect {}

  /** Moves the pointer to {@code model} on trial. */
  public record BeginTrial(StoredModel model, String id) implements Effect {}

  /** Starts {@code model} in the runtime (warm-up, activation check, switch). */
  public record Activate(String id, StoredModel model) implements Effect {}

  /**
   * Verifies an installed model's directory again, as at its install (signature, trust store, the
   * digest of every file), before it serves at boot or is rolled back to: a file corrupted on disk
   * or a signer revoked while it was not serving is found before a byte of the model is loaded.
   */
  public record Recheck(StoredModel model) implements Effect {}

  /**
   * Starts the store's active model at boot, after its {@link Recheck}, without running its
   * activation check again: the score it had when committed ({@link StoredModel#activationScore})
   * is reported as its score.
   */
  public record ServeActive(StoredModel model) implements Effect {}

  /** Serves no stored model (none verified is left): the configured fallback or the rules. */
  public record Unload() implements Effect {}

  /**
   * Tells the agent's health and status what is wrong with the model store (a stored model that
   * failed its boot re-check), for people; {@code detail} starts with the reason code.
   */
  public record NoteServingProblem(ReasonCode code, String detail) implements Effect {}

  public record PutMark(ReleaseTrack track, HighWaterMark mark) implements Effect {}

  /**
   * Clears the trial flag, records the activation check's score with the active model, and collects
   * models other than active and previous.
   *
   * @param activationScore the check's score, or null when the bundle has no check
   */
  public record CommitTrial(Double activationScore) implements Effect {}

  /** Moves the pointer back to the previous model (the runtime still serves it). */
  public record RollbackPointer() implements Effect {}

  /** Starts the previous model in the runtime (or unloads) and moves the pointer back. */
  public record RestorePrevious() implements Effect {}

  /**
   * Drops the previous model from the pointer and deletes it: it failed its {@link Recheck} before
   * a rollback to it.
   */
  public record ForgetPrevious() implements Effect {}

  /** Persists the pointer the store's recovery decided on, once its report is journaled. */
  public record SettleRecovery() implements Effect {}

  public record ScheduleTick(String id, Instant at) implements Effect {}

  public record SampleHealth(String id) implements Effect {}

  /**
   * Completes a USB side-load: {@code model} on success, else the failure, with the reason code the
   * MQTT result for the same failure carries.
   */
  public record UsbDone(String id, StoredModel model, UpdateException error) implements Effect {}

  /**
   * A side-loaded bundle's update entered {@code phase} (verifying, installing, activating,
   * soaking, restoring), for the technician's in-progress marker on the stick. It comes first among
   * its step's effects: it says what the node is about to do, before the effects that take long
   * (install, activation) run.
   *
   * @param soakEndsAt when the soak ends if nothing fails, while soaking; else null
   */
  public record UsbPhase(String id, Phase phase, Instant soakEndsAt) implements Effect {}

  // ---- the step function ----

  /** The next state and effects for {@code event} at {@code now}. */
  public Step step(State state, Event event, Instant now) {
    Work w = new Work(state);
    switch (event) {
      case Started s -> started(w, s);
      case AssignmentReceived a -> assignment(w, a, now);
      case AssignmentUnreadable u -> unreadable(w, u);
      case CommandReceived c -> command(w, c.command(), now);
      case UsbBundleFound u -> usbFound(w, u);
      case TransferStarted t -> {
        if (w.isCurrent(t.id())) {
          w.journal(
              JournalEvent.DOWNLOAD_STARTED,
              t.id(),
              w.job.model(),
              t.resumed() ? "resumed with " + t.bytesHeld() + " bytes held" : "from the start");
        }
      }
      case TransferProgress p -> {
        if (w.isCurrent(p.id()) && w.job.phase() == Phase.DOWNLOADING) {
          downloadProgress(w, p.bytesDone(), p.bytesTotal(), now);
        }
      }
      case BundleComplete b -> bundleComplete(w, b, now);
      case TransferFailed f -> {
        if (w.isCurrent(f.id())) {
          fail(w, f.error(), now);
        }
      }
      case Verified v -> verified(w, v, now);
      case Rejected r -> {
        if (w.isCurrent(r.id())) {
          fail(w, r.error(), now);
        }
      }
      case Installed i -> installed(w, i, now);
      case Activated a -> activated(w, a, now);
      case ActivationFailed f -> activationFailed(w, f, now);
      case Tick t -> {
        if (w.isCurrent(t.id()) && w.job.phase() == Phase.SOAKING && !w.closing) {
          w.effects.add(new SampleHealth(t.id()));
        }
      }
      case SoakSample s -> soakSample(w, s, now);
      case Restored r -> restored(w, r, now);
      case Rechecked r -> rechecked(w, r, now);
      case ServeFailed f ->
          restore(
              w,
              new Restore(
                  null,
                  w.pointer.active() == null ? null : w.pointer.active().ref(),
                  f.error().reasonCode(),
                  "active model failed to start: " + f.error().getMessage(),
                  null));
      case Shutdown s -> {
        w.closing = true;
        if (w.job != null && w.job.phase() == Phase.DOWNLOADING) {
          w.effects.add(new CancelTransfer(w.job.id()));
        }
        // A model on trial is neither committed nor rolled back on the way out: the pointer stays
        // on trial and the next start rolls it back and reports it, as after a power cut.
      }
    }
    return w.finish();
  }

  // ---- transitions ----

  private void started(Work w, Started s) {
    w.pointer = s.pointer();
    w.marks = new HashMap<>(s.marks());
    w.finished = new ArrayList<>(s.finished());
    StorePointer trial = s.interruptedTrial();
    if (trial != null && w.finished.contains(trial.trialAssignmentId())) {
      // Its end (a failed activation, a soak failure, an ordered rollback) was journaled and
      // persisted before the power went; only the pointer was left on trial.
      w.effects.add(new SettleRecovery());
    } else if (trial != null) {
      String id = trial.trialAssignmentId();
      String reason = "the agent restarted while the new model was on trial; rolled back";
      w.effects.add(new Journal(JournalEvent.ROLLED_BACK, id, null, trial.active().ref(), reason));
      w.remember(id);
      w.result(
          id,
          null,
          UpdateOutcome.ROLLED_BACK,
          trial.active().ref(),
          ReasonCode.RESTARTED_DURING_TRIAL,
          reason,
          null);
      // The pointer leaves the trial last: a cut before this repeats the rollback's report.
      w.effects.add(new SettleRecovery());
    }
    if (w.pointer.active() != null) {
      w.effects.add(new Recheck(w.pointer.active()));
    }
  }

  /**
   * A stored model verified again at boot serves; one that no longer verifies is never served: it
   * is journaled and reported, dropped from the store, and the previous model gets the same check.
   * With none left, no stored model serves.
   */
  private void rechecked(Work w, Rechecked r, Instant now) {
    if (w.restoring != null) {
      restoreRechecked(w, r, now);
      return;
    }
    StoredModel active = w.pointer.active();
    if (active == null || !active.digest().equals(r.model().digest())) {
      return; // no longer the model the boot is about to serve
    }
    if (r.error() == null) {
      w.effects.add(new ServeActive(active));
      return;
    }
    StoredModel previous = w.pointer.previous();
    ReasonCode code = r.error().reasonCode();
    String detail =
        code
            + ": the stored model "
            + active.describe()
            + " no longer verifies and is not served ("
            + r.error().getMessage()
            + "); "
            + (previous == null
                ? "no verified model is left."
                : "serving the previous model " + previous.describe() + " if it verifies.");
    w.journal(JournalEvent.ROLLED_BACK, null, active.ref(), detail);
    w.effects.add(new NoteServingProblem(code, detail));
    if (w.repairable == null) {
      w.repairable = active.digest(); // the release that set the mark
    }
    w.pointer = new StorePointer(previous, null, false, null);
    w.effects.add(new RollbackPointer()); // nothing serves yet; the failed model is deleted
    w.effects.add(previous == null ? new Unload() : new Recheck(previous));
  }

  private void assignment(Work w, AssignmentReceived r, Instant now) {
    UpdateAssignment a = r.assignment();
    if (w.finished.contains(a.assignmentId())) {
      if (w.job == null || !w.job.id().equals(a.assignmentId())) {
        // A power cut after its end was persisted can leave its staging behind.
        w.effects.add(new DiscardStaging(a.assignmentId()));
      }
      return;
    }
    if (w.job != null) {
      if (w.job.id().equals(a.assignmentId())) {
        return; // the retained assignment again
      }
      // A newer assignment replaces a running download and any assignment still waiting.
      w.queue.removeIf(q -> q instanceof AssignmentReceived);
      if (w.job.source() == Source.MQTT && w.job.phase() == Phase.DOWNLOADING) {
        if (!w.job.cancelled()) {
          w.job = w.job.cancel();
          w.effects.add(new CancelTransfer(w.job.id()));
        }
      }
      w.queue.add(r);
      bound(w);
      return;
    }
    startAssignment(w, r, now);
  }

  private void startAssignment(Work w, AssignmentReceived r, Instant now) {
    UpdateAssignment a = r.assignment();
    String id = a.assignmentId();
    StoredModel active = w.pointer.active();
    if (active != null
        && !w.pointer.trial()
        && ("sha256:" + active.servingDigest()).equals(a.model().digest())) {
      // The model assigned already serves (a restart before the id was remembered): not a new
      // attempt, so nothing is fetched, checked or journaled again; the controller hears it serves.
      w.remember(id);
      w.result(id, null, UpdateOutcome.ACTIVATED, active.ref(), null, null, null);
      startNext(w, now);
      return;
    }
    w.job = Job.mqtt(a);
    w.journal(JournalEvent.ASSIGNED, id, a.model(), "bundle " + a.bundleId());
    UpdateException refusal = precheck(w, r, now);
    if (refusal != null) {
      fail(w, refusal, now);
      return;
    }
    w.effects.add(new DiscardOtherStaging(id));
    w.effects.add(new StartTransfer(a));
  }

  /**
   * What is refused before a byte is fetched: the release policy's rules on the announced model
   * (model, channel, binding high-water mark), then the node's own limits (packet size, disk). Null
   * when the assignment may be downloaded.
   */
  private UpdateException precheck(Work w, AssignmentReceived r, Instant now) {
    UpdateAssignment a = r.assignment();
    ModelRef m = a.model();
    if (a.isAdapter()) {
      UpdateException wrongBase =
          baseRefusal(w, m.name() + " v" + m.version(), a.baseModelDigest().substring(7));
      if (wrongBase != null) {
        return wrongBase;
      }
    }
    try {
      ReleasePolicy.standard()
          .precheck(
              new ReleaseTrack(m.name(), m.channel()),
              m.version(),
              a.isAdapter()
                  ? profile.adapterFacts(w.marks, now, m.name(), m.channel())
                  : profile.facts(w.marks, now),
              trust);
    } catch (PolicyException e) {
      return new UpdateException(
          UpdateException.Fault.ARTIFACT, BundleGate.reasonCode(e.reason()), e.getMessage(), e);
    }
    long packet = r.maxPacketBytes();
    if (packet != Long.MAX_VALUE && a.chunkBytes() + 1024L > packet) {
      return new UpdateException(
          UpdateException.Fault.ARTIFACT,
          ReasonCode.CHUNK_TOO_LARGE,
          "Chunks of "
              + a.chunkBytes()
              + " bytes do not fit the broker's maximum packet size of "
              + packet
              + " bytes. Assign a chunk size of at most "
              + (packet - 1024)
              + ".");
    }
    long need = 2 * a.totalBytes() + settings.diskMarginBytes();
    long free = r.freeBytes() + r.stagedBytes();
    if (free < need) {
      return new UpdateException(
          UpdateException.Fault.LOCAL,
          ReasonCode.DISK_FULL,
          "Not enough disk space for bundle "
              + a.bundleId()
              + ": it needs "
              + need / (1 << 20)
              + " MiB (twice its "
              + a.totalBytes() / (1 << 20)
              + " MiB plus a margin), "
              + free / (1 << 20)
              + " MiB are free in the model store. Free space on the node; the current model keeps"
              + " serving.");
    }
    return null;
  }

  private void unreadable(Work w, AssignmentUnreadable u) {
    if (w.finished.contains(u.assignmentId())) {
      return;
    }
    String reason =
        "The assignment cannot be read: "
            + u.why()
            + " Nothing was downloaded; fix the assignment and publish it again under a new id.";
    w.journal(JournalEvent.REJECTED, u.assignmentId(), null, "malformed_assignment: " + u.why());
    w.remember(u.assignmentId());
    w.result(
        u.assignmentId(),
        null,
        UpdateOutcome.REJECTED,
        null,
        ReasonCode.MALFORMED_ASSIGNMENT,
        reason,
        null);
  }

  private void usbFound(Work w, UsbBundleFound u) {
    if (w.job != null || w.restoring != null || w.closing) {
      w.queue.add(u);
      bound(w);
      return;
    }
    w.job = Job.usb(u.id(), u.dir());
    w.effects.add(new Verify(u.id(), u.dir(), w.committedDigest(), w.repairable));
  }

  /** Keeps the queue bounded: the oldest waiting work is refused. */
  private void bound(Work w) {
    while (w.queue.size() > MAX_QUEUED) {
      Event dropped = w.queue.removeFirst();
      if (dropped instanceof UsbBundleFound u) {
        w.effects.add(
            new UsbDone(
                u.id(),
                null,
                new UpdateException(
                    UpdateException.Fault.LOCAL,
                    ReasonCode.BUSY,
                    "The node had more than "
                        + MAX_QUEUED
                        + " updates waiting; insert the stick again later.")));
      }
    }
  }

  private void downloadProgress(Work w, long done, long total, Instant now) {
    Job j = w.job;
    if (j.progressAt() != null
        && Duration.between(j.progressAt(), now).toMillis() < UpdateProgress.MIN_INTERVAL_MS) {
      return;
    }
    Long rate = null;
    if (j.progressAt() != null && now.isAfter(j.progressAt()) && done >= j.progressBytes()) {
      long nanos = Duration.between(j.progressAt(), now).toNanos();
      rate = (done - j.progressBytes()) * 1_000_000_000L / nanos;
    }
    Long eta = rate != null && rate > 0 ? (total - done) / rate : null;
    w.job = j.withProgress(now, done);
    w.effects.add(new PublishProgress(j.id(), UpdatePhase.DOWNLOADING, done, total, rate, eta));
  }

  private void bundleComplete(Work w, BundleComplete b, Instant now) {
    if (!w.isCurrent(b.id()) || w.job.phase() != Phase.DOWNLOADING) {
      return;
    }
    UpdateAssignment a = w.job.assignment();
    w.job = w.job.withDir(b.dir()).phase(Phase.VERIFYING);
    w.journal(
        JournalEvent.DOWNLOADED,
        b.id(),
        a.model(),
        a.totalBytes() + " bytes; " + b.corruptChunks() + " corrupt chunks refused");
    w.effects.add(
        new PublishProgress(
            b.id(), UpdatePhase.VERIFYING, a.totalBytes(), a.totalBytes(), null, null));
    w.effects.add(new Verify(b.id(), b.dir(), null, null));
  }

  private void verified(Work w, Verified v, Instant now) {
    if (!w.isCurrent(v.id()) || w.job.phase() != Phase.VERIFYING) {
      return;
    }
    BundleGate.Passed p = v.passed();
    if (p.alreadyActive() && w.job.source() == Source.USB) {
      // A stick still in after a restart: the model it holds serves already. Nothing is journaled
      // or reported again, and the stick keeps saying it was activated.
      w.effects.add(new DiscardStaging(v.id()));
      done(w, w.pointer.active(), null, null, now);
      return;
    }
    if (w.job.source() == Source.MQTT) {
      UpdateException mismatch = mismatch(w.job.assignment(), p.model());
      if (mismatch != null) {
        fail(w, mismatch, now);
        return;
      }
    }
    if (p.model().isAdapter()) {
      UpdateException wrongBase = baseRefusal(w, p.model().describe(), p.model().baseDigest());
      if (wrongBase != null) {
        fail(w, wrongBase, now);
        return;
      }
    }
    w.job = w.job.withPassed(p).phase(Phase.INSTALLING);
    ModelRef ref = p.model().ref();
    if (w.job.source() == Source.MQTT) {
      w.journal(JournalEvent.VERIFIED, v.id(), ref, "signature, trust and release policy");
      w.result(v.id(), null, UpdateOutcome.VERIFIED, ref, null, null, null);
    } else {
      w.journal(JournalEvent.VERIFIED, v.id(), ref, "side-loaded bundle verified");
    }
    w.effects.add(new Install(v.id(), w.job.dir(), p.model()));
  }

  /** The signed bundle must be the one the assignment announced (wrong target, mix and match). */
  static UpdateException mismatch(UpdateAssignment a, StoredModel got) {
    ModelRef want = a.model();
    boolean digestOk = want.digest() == null || want.digest().equals("sha256:" + got.digest());
    boolean baseOk =
        a.baseModelDigest() == null
            ? !got.isAdapter()
            : a.baseModelDigest().equals("sha256:" + got.baseDigest());
    if (want.name().equals(got.name()) && want.version() == got.version() && digestOk && baseOk) {
      return null;
    }
    return new UpdateException(
        UpdateException.Fault.ARTIFACT,
        ReasonCode.ASSIGNMENT_MISMATCH,
        "The assignment announced "
            + want.name()
            + " v"
            + want.version()
            + " but the signed bundle is "
            + got.describe()
            + ". The controller sent the wrong bundle; nothing was installed.");
  }

  private void installed(Work w, Installed i, Instant now) {
    if (!w.isCurrent(i.id()) || w.job.phase() != Phase.INSTALLING) {
      return;
    }
    StoredModel bundle = w.job.passed().model();
    StoredModel active = w.pointer.active();
    if (bundle.isAdapter()) {
      UpdateException wrongBase = baseRefusal(w, bundle.describe(), bundle.baseDigest());
      if (wrongBase != null) {
        fail(w, wrongBase, now);
        return;
      }
    }
    // What will serve: a model alone, or an adapter on top of the base serving now (the base's
    // files stay as they are; only the adapter is new in the store).
    StoredModel model =
        bundle.isAdapter() ? active.base().withAdapter(bundle).withActivationScore(null) : bundle;
    if (active != null && active.sameServing(model)) {
      // The bundle is the model already serving: its mark is recorded, nothing switches.
      w.effects.add(new DiscardStaging(i.id()));
      putMark(w, w.job.passed());
      w.remember(i.id());
      w.result(i.id(), null, UpdateOutcome.ACTIVATED, model.ref(), null, null, null);
      done(w, model, null, null, now);
      return;
    }
    w.job = w.job.phase(Phase.ACTIVATING);
    w.effects.add(new PublishProgress(i.id(), UpdatePhase.ACTIVATING, 0, 0, null, null));
    StoredModel prev = active;
    if (prev != null && prev.sameServing(model)) {
      prev = w.pointer.previous();
    }
    w.pointer = new StorePointer(model, prev, true, i.id());
    w.effects.add(new BeginTrial(model, i.id()));
    // The staged transfer goes once the pointer names the model on trial: a power cut before that
    // resumes with every chunk held; one after it finds the trial and rolls it back.
    w.effects.add(new DiscardStaging(i.id()));
    w.effects.add(new Activate(i.id(), model));
  }

  private void activated(Work w, Activated a, Instant now) {
    if (!w.isCurrent(a.id()) || w.job.phase() != Phase.ACTIVATING) {
      return;
    }
    Instant end = now.plus(settings.soak());
    SoakJudge judge = new SoakJudge(settings.limits(), a.start(), a.baselineTokensPerSecond());
    Double score = a.score().isPresent() ? a.score().getAsDouble() : null;
    w.job = w.job.withSoak(new Soak(judge, end, score)).phase(Phase.SOAKING);
    nextSoakTick(w, now);
  }

  private void nextSoakTick(Work w, Instant now) {
    Soak s = w.job.soak();
    w.effects.add(new PublishProgress(w.job.id(), UpdatePhase.SOAKING, 0, 0, null, null));
    Instant next = now.plus(settings.soakSample());
    w.effects.add(new ScheduleTick(w.job.id(), next.isBefore(s.end()) ? next : s.end()));
  }

  private void activationFailed(Work w, ActivationFailed f, Instant now) {
    if (!w.isCurrent(f.id()) || w.job.phase() != Phase.ACTIVATING) {
      return;
    }
    // The runtime kept the previous model serving (or none was there): only the pointer moves.
    ModelRef ref = w.job.passed().model().ref();
    UpdateException e = f.error();
    w.pointer = new StorePointer(w.pointer.previous(), null, false, null);
    w.journal(JournalEvent.ROLLED_BACK, f.id(), ref, e.reasonCode() + ": " + e.getMessage());
    w.remember(f.id());
    w.result(f.id(), null, UpdateOutcome.ROLLED_BACK, ref, e.reasonCode(), e.getMessage(), null);
    w.effects.add(new RollbackPointer()); // last: see the class comment on the order of an end
    done(w, null, UpdateOutcome.ROLLED_BACK, e, now);
  }

  private void soakSample(Work w, SoakSample s, Instant now) {
    if (!w.isCurrent(s.id()) || w.job.phase() != Phase.SOAKING || w.closing) {
      return;
    }
    Soak soak = w.job.soak();
    SoakJudge.Verdict v = soak.judge().judge(s.sample());
    if (v.failure().isPresent()) {
      w.job = w.job.phase(Phase.RESTORING);
      restore(
          w,
          new Restore(
              s.id(),
              w.job.passed().model().ref(),
              ReasonCode.SOAK_FAILED,
              v.failure().get(),
              null));
      return;
    }
    w.job = w.job.withSoak(new Soak(v.next(), soak.end(), soak.score()));
    if (now.isBefore(soak.end())) {
      nextSoakTick(w, now);
      return;
    }
    BundleGate.Passed p = w.job.passed();
    StoredModel model = p.model();
    putMark(w, p);
    Double score = soak.score();
    w.pointer =
        new StorePointer(
            w.pointer.active().withActivationScore(score), w.pointer.previous(), false, null);
    w.effects.add(new CommitTrial(score));
    // A newer commit (or the repair itself) ends the repair: the dropped release is an old one now.
    w.repairable = null;
    w.remember(s.id());
    w.journal(
        JournalEvent.ACTIVATED,
        s.id(),
        model.ref(),
        score == null ? "no activation check" : "score " + score);
    w.result(s.id(), null, UpdateOutcome.ACTIVATED, model.ref(), null, null, score);
    done(w, model, null, null, now);
  }

  /**
   * The base-model rule for a LoRA adapter: it is refused unless the node serves, committed, the
   * base model its signed release names (llama.cpp refuses an adapter of another shape, and one of
   * the same shape trained on another base answers wrongly without any error). Null when it may go
   * on.
   *
   * @param what the adapter, for the message
   * @param baseDigest the base model digest it names, lowercase hex
   */
  private static UpdateException baseRefusal(Work w, String what, String baseDigest) {
    StoredModel active = w.pointer.active();
    if (active != null && !w.pointer.trial() && active.digest().equals(baseDigest)) {
      return null;
    }
    return new UpdateException(
        UpdateException.Fault.ARTIFACT,
        ReasonCode.WRONG_BASE_MODEL,
        "The LoRA adapter "
            + what
            + " applies to base model sha256:"
            + baseDigest
            + ", but this node serves "
            + (active == null ? "no verified model" : active.base().describe())
            + ". Roll the base model out to this node first, or assign an adapter trained for the"
            + " base it serves; the current model keeps serving.");
  }

  private void putMark(Work w, BundleGate.Passed p) {
    ReleasePolicy policy = ReleasePolicy.standard();
    ReleaseTrack track = p.release().track();
    HighWaterMark next =
        policy.nextMark(
            w.marks.get(track), policy.markAfterActivation(p.bundle(), p.release()), trust);
    if (!next.equals(w.marks.get(track))) {
      w.marks.put(track, next);
      w.effects.add(new PutMark(track, next));
    }
  }

  private void command(Work w, UpdateCommand c, Instant now) {
    if (w.finished.contains("cmd:" + c.commandId())) {
      return;
    }
    if (c.expiresAt() != null && !now.isBefore(c.expiresAt())) {
      return;
    }
    if (c.action() == CommandAction.CANCEL) {
      if (w.job != null
          && w.job.source() == Source.MQTT
          && w.job.phase() == Phase.DOWNLOADING
          && (c.assignmentId() == null || c.assignmentId().equals(w.job.id()))
          && !w.job.cancelled()) {
        w.job = w.job.cancel();
        w.effects.add(new CancelTransfer(w.job.id()));
      }
      commandDone(w, c, UpdateOutcome.CANCELLED, null, "cancel ordered");
      return;
    }
    w.effects.add(
        new Journal(JournalEvent.COMMAND_RECEIVED, null, c.commandId(), null, "rollback"));
    String reason = "rollback ordered: " + (c.reason() == null ? "" : c.reason());
    if (w.restoring != null) {
      commandDone(
          w,
          c,
          UpdateOutcome.REJECTED,
          ReasonCode.ROLLBACK_IN_PROGRESS,
          "A rollback is already running.");
      return;
    }
    if (w.job != null && w.job.phase() == Phase.SOAKING) {
      // Rolls back the model on trial: the update and the command each get their result.
      w.job = w.job.phase(Phase.RESTORING);
      restore(
          w,
          new Restore(
              w.job.id(), w.job.passed().model().ref(), ReasonCode.ROLLBACK_ORDERED, reason, c));
      return;
    }
    if (w.pointer.previous() == null || w.pointer.active() == null) {
      commandDone(
          w,
          c,
          UpdateOutcome.REJECTED,
          ReasonCode.NO_PREVIOUS_MODEL,
          "There is no previous model to roll back to.");
      return;
    }
    restore(w, new Restore(null, w.pointer.active().ref(), ReasonCode.ROLLBACK_ORDERED, reason, c));
  }

  private void commandDone(
      Work w, UpdateCommand c, UpdateOutcome outcome, ReasonCode code, String reason) {
    w.remember("cmd:" + c.commandId());
    // The result names the model serving, or none on a node without a verified model.
    w.result(
        null,
        c.commandId(),
        outcome,
        w.pointer.active() == null ? null : w.pointer.active().ref(),
        code,
        reason,
        null);
  }

  /**
   * Starts a rollback. One of a model on trial ends its assignment first (journaled, finished), so
   * that a power cut during the rollback finds it finished instead of assigned again; its result
   * follows once the previous model serves.
   */
  private void restore(Work w, Restore r) {
    w.restoring = r;
    if (r.assignmentId() != null) {
      w.journal(JournalEvent.ROLLED_BACK, r.assignmentId(), r.from(), r.code() + ": " + r.reason());
      w.remember(r.assignmentId());
    }
    StoredModel back = w.pointer.previous();
    // The model rolled back to is verified again first, as at boot: it has not served for a while
    // and its files may have changed on disk since.
    w.effects.add(back == null ? new RestorePrevious() : new Recheck(back));
  }

  /**
   * The previous model's re-check before a rollback to it: it verifies and is restored, or it is
   * never served: journaled and reported like a failed boot re-check, and dropped. Then an ordered
   * rollback of a committed model is refused (that model keeps serving); any other rollback (a
   * trial, or a model that no longer starts) goes on with no stored model.
   */
  private void restoreRechecked(Work w, Rechecked r, Instant now) {
    StoredModel back = w.pointer.previous();
    if (back == null || !back.digest().equals(r.model().digest())) {
      return;
    }
    if (r.error() == null) {
      w.effects.add(new RestorePrevious());
      return;
    }
    Restore pending = w.restoring;
    ReasonCode code = r.error().reasonCode();
    boolean refuse = pending.assignmentId() == null && pending.command() != null;
    String detail =
        code
            + ": the stored model "
            + back.describe()
            + " no longer verifies and is not rolled back to ("
            + r.error().getMessage()
            + "); "
            + (refuse ? "the active model keeps serving." : "no verified model is left to serve.");
    w.journal(JournalEvent.ROLLED_BACK, null, back.ref(), detail);
    w.effects.add(new NoteServingProblem(code, detail));
    w.pointer =
        new StorePointer(
            w.pointer.active(), null, w.pointer.trial(), w.pointer.trialAssignmentId());
    w.effects.add(new ForgetPrevious());
    if (!refuse) {
      w.effects.add(new RestorePrevious()); // with no previous: unloads, the pointer is emptied
      return;
    }
    w.restoring = null;
    commandDone(
        w,
        pending.command(),
        UpdateOutcome.REJECTED,
        code,
        "The previous model "
            + back.describe()
            + " no longer verifies ("
            + r.error().getMessage()
            + "); it was deleted and "
            + w.pointer.active().describe()
            + " keeps serving. Assign a verified bundle to change the model.");
    if (w.job == null) {
      startNext(w, now);
    }
  }

  private void restored(Work w, Restored r, Instant now) {
    w.pointer = r.pointer();
    Restore pending = w.restoring;
    w.restoring = null;
    if (pending == null) {
      return;
    }
    ModelRef ref =
        pending.from() != null
            ? pending.from()
            : w.pointer.active() == null ? null : w.pointer.active().ref();
    if (pending.assignmentId() == null) {
      w.journal(JournalEvent.ROLLED_BACK, null, ref, pending.code() + ": " + pending.reason());
    } else {
      // journaled and finished in restore(), before the pointer moved
      w.result(
          pending.assignmentId(),
          null,
          UpdateOutcome.ROLLED_BACK,
          ref,
          pending.code(),
          pending.reason(),
          null);
    }
    if (pending.command() != null) {
      commandDone(
          w,
          pending.command(),
          UpdateOutcome.ROLLED_BACK,
          ReasonCode.ROLLBACK_ORDERED,
          "rollback ordered by command " + pending.command().commandId());
    }
    if (w.isCurrent(pending.assignmentId())) {
      done(
          w,
          null,
          UpdateOutcome.ROLLED_BACK,
          new UpdateException(UpdateException.Fault.MODEL, pending.code(), pending.reason()),
          now);
    } else if (w.job == null) {
      startNext(w, now);
    }
  }

  /** A refusal or failure of the running update, reported; a stalled download is kept. */
  private void fail(Work w, UpdateException e, Instant now) {
    Job j = w.job;
    ReasonCode code = e.reasonCode();
    boolean cancelled = code == ReasonCode.CANCELLED;
    boolean keep = e.fault() == UpdateException.Fault.TRANSFER && !cancelled;
    UpdateOutcome outcome = cancelled ? UpdateOutcome.CANCELLED : UpdateOutcome.REJECTED;
    w.journal(
        cancelled ? JournalEvent.CANCELLED : JournalEvent.REJECTED,
        j.id(),
        j.model(),
        code + ": " + e.getMessage());
    if (!keep && j.source() == Source.MQTT) {
      w.remember(j.id());
    }
    if (j.source() == Source.MQTT) {
      w.result(j.id(), null, outcome, j.model(), code, e.getMessage(), null);
    }
    if (!keep) {
      w.effects.add(new DiscardStaging(j.id())); // last: see the class comment on the order
    }
    done(w, null, outcome, e, now);
  }

  /** Ends the running update and starts the next waiting one. */
  private void done(
      Work w, StoredModel model, UpdateOutcome outcome, UpdateException e, Instant now) {
    Job j = w.job;
    if (j.source() == Source.USB) {
      w.effects.add(new UsbDone(j.id(), model, e));
    }
    w.job = null;
    startNext(w, now);
  }

  private void startNext(Work w, Instant now) {
    if (w.closing || w.queue.isEmpty() || w.job != null || w.restoring != null) {
      return;
    }
    Event next = w.queue.removeFirst();
    if (next instanceof UsbBundleFound u) {
      w.job = Job.usb(u.id(), u.dir());
      w.effects.add(new Verify(u.id(), u.dir(), w.committedDigest(), w.repairable));
    } else if (next instanceof AssignmentReceived a
        && !w.finished.contains(a.assignment().assignmentId())) {
      startAssignment(w, a, now);
    } else {
      startNext(w, now);
    }
  }

  /** Mutable scratch for one step. */
  private final class Work {
    final Job before;
    StorePointer pointer;
    Map<ReleaseTrack, HighWaterMark> marks;
    Job job;
    List<Event> queue;
    List<String> finished;
    Restore restoring;
    boolean closing;
    String repairable;
    final List<Effect> effects = new ArrayList<>();

    Work(State s) {
      before = s.job();
      pointer = s.pointer();
      marks = new HashMap<>(s.marks());
      job = s.job();
      queue = new ArrayList<>(s.queue());
      finished = new ArrayList<>(s.finished());
      restoring = s.restoring();
      closing = s.closing();
      repairable = s.repairable();
    }

    /** What serves, committed: the adapter's digest when one is applied, else the model's. */
    String committedDigest() {
      return pointer.active() == null || pointer.trial() ? null : pointer.active().servingDigest();
    }

    boolean isCurrent(String id) {
      return job != null && id != null && job.id().equals(id);
    }

    void journal(JournalEvent e, String id, ModelRef model, String detail) {
      effects.add(new Journal(e, id, null, model, detail));
    }

    void result(
        String id,
        String commandId,
        UpdateOutcome outcome,
        ModelRef model,
        ReasonCode code,
        String reason,
        Double score) {
      if (id == null && commandId == null) {
        return;
      }
      effects.add(
          new PublishResult(
              id,
              commandId,
              outcome,
              model,
              pointer.active() == null ? null : pointer.active().ref(),
              code,
              reason,
              score));
    }

    void remember(String id) {
      if (id == null) {
        return;
      }
      finished.remove(id);
      finished.add(id);
      while (finished.size() > REMEMBERED_IDS) {
        finished.removeFirst();
      }
      effects.add(new PersistFinished(List.copyOf(finished)));
    }

    Step finish() {
      List<Effect> out = effects;
      if (job != null
          && job.source() == Source.USB
          && (before == null || !before.id().equals(job.id()) || before.phase() != job.phase())) {
        out = new ArrayList<>();
        Instant soakEnd =
            job.phase() == Phase.SOAKING && job.soak() != null ? job.soak().end() : null;
        out.add(new UsbPhase(job.id(), job.phase(), soakEnd));
        out.addAll(effects);
      }
      return new Step(
          new State(pointer, marks, job, queue, finished, restoring, closing, repairable),
          List.copyOf(out));
    }
  }
}
