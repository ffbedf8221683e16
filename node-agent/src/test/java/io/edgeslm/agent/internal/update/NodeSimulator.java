package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.store.UpdateJournal;
import io.edgeslm.agent.internal.update.UpdateMachine.Effect;
import io.edgeslm.agent.internal.update.UpdateMachine.Event;
import io.edgeslm.agent.update.TestBundles;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.JournalEntry;
import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.signing.TrustStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.stream.Stream;

/**
 * One node for {@link UpdateMachineTest}: the pure machine over the real model store, journal and
 * bundle gate in a temporary directory, with a simulated link (published effects are recorded), a
 * simulated transfer (the real staged transfer, fed chunk by chunk from a bundle server's
 * directory, with the chunks sent counted; or a failure), a simulated runtime (scores and failures
 * by model digest) and a manual clock. Effects run as the engine runs them; {@link #powerCutAfter}
 * stops executing after a number of effects, as a kill would.
 */
final class NodeSimulator {

  final Path data;
  final TrustStore trust;
  final UpdateMachine machine;
  final ModelStore store;
  final UpdateJournal journal;
  final BundleGate gate;
  UpdateMachine.State state = UpdateMachine.State.initial();
  Instant now = Instant.parse("2026-12-01T08:00:00Z");

  final List<UpdateMachine.PublishResult> results = new ArrayList<>();
  final List<io.edgeslm.protocol.UpdateResult> wire = new ArrayList<>();
  final List<UpdateMachine.StartTransfer> transfers = new ArrayList<>();
  final List<StoredModel> activations = new ArrayList<>();
  final Map<String, Path> bundleServer = new HashMap<>();

  /** Chunks the bundle server sent, by assignment id. */
  final Map<String, Integer> chunksFetched = new HashMap<>();

  final Map<String, UpdateException> transferFailures = new HashMap<>();
  final Map<String, UpdateException> activationFailures = new HashMap<>();
  final Map<String, UpdateMachine.UsbDone> usbDone = new HashMap<>();
  final List<UpdateMachine.UsbPhase> usbPhases = new ArrayList<>();
  final List<UpdateMachine.ScheduleTick> ticks = new ArrayList<>();
  ModelRuntime.Sample health = new ModelRuntime.Sample(true, 0, 0, 0, 0);
  StoredModel serving;

  /** The activation score the runtime reports for the serving model (health's activationScore). */
  Double servingScore;

  final List<StoredModel> rechecked = new ArrayList<>();
  final List<UpdateMachine.NoteServingProblem> servingProblems = new ArrayList<>();
  int effectsLeft = Integer.MAX_VALUE;
  int effectsRun;
  List<String> persistedFinished = List.of();

  static final UpdateSettings SETTINGS =
      UpdateSettings.defaults()
          .withSoak(Duration.ofSeconds(60), Duration.ofSeconds(10))
          .withDiskMargin(0);

  /** A node on {@code data} (new or as a restart finds it) that verifies against {@code trust}. */
  NodeSimulator(Path data, TrustStore trust) throws IOException {
    this.data = data;
    this.trust = trust;
    NodeProfile profile = io.edgeslm.agent.update.TestNode.profile("gw-sim");
    this.machine = new UpdateMachine(profile, trust, SETTINGS);
    this.store = ModelStore.open(data);
    this.journal = UpdateJournal.open(data.resolve("journal"));
    this.gate = new BundleGate(trust, profile);
  }

  /**
   * Boots: what {@code UpdateEngine.start} feeds the machine after the store's recovery, with the
   * finished ids as {@code finished.json} holds them (what the node persists next replaces them).
   */
  NodeSimulator start(List<String> finished) {
    persistedFinished = List.copyOf(finished);
    return send(
        new UpdateMachine.Started(
            store.pointer(), store.marks(), store.interruptedTrial().orElse(null), finished));
  }

  /** An assignment for {@code bundle} as a controller's bundle server offers it. */
  UpdateAssignment offer(String id, Path bundle, ModelRef model) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(bundle)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<BundleFile> described = new ArrayList<>();
    long total = 0;
    for (Path f : files) {
      BundleFile bf =
          BundleFile.fromFile(
              bundle.relativize(f).toString(), f, UpdateAssignment.DEFAULT_CHUNK_BYTES);
      described.add(bf);
      total += bf.sizeBytes();
    }
    bundleServer.put(id, bundle);
    return new UpdateAssignment(
        Protocol.SCHEMA_VERSION,
        id,
        null,
        "bundle-" + model.version(),
        model,
        total,
        UpdateAssignment.DEFAULT_CHUNK_BYTES,
        described,
        "edge/v1/plant-7/gw-sim/update/request",
        now);
  }

  /** An assignment of an adapter bundle, naming the base model digest its release names. */
  UpdateAssignment offerAdapter(String id, Path bundle, ModelRef adapter, String baseDigest)
      throws IOException {
    UpdateAssignment a = offer(id, bundle, adapter);
    return new UpdateAssignment(
        a.schemaVersion(),
        a.assignmentId(),
        a.rolloutId(),
        a.bundleId(),
        a.model(),
        a.totalBytes(),
        a.chunkBytes(),
        a.files(),
        a.requestTopic(),
        a.issuedAt(),
        baseDigest);
  }

  NodeSimulator assign(UpdateAssignment a) {
    return assign(a, 1L << 40);
  }

  NodeSimulator assign(UpdateAssignment a, long freeBytes) {
    return send(new UpdateMachine.AssignmentReceived(a, Long.MAX_VALUE, freeBytes, 0));
  }

  /** Advances the clock, firing every tick that falls due (the soak). */
  NodeSimulator advance(Duration d) {
    Instant until = now.plus(d);
    while (true) {
      UpdateMachine.ScheduleTick due =
          ticks.stream()
              .filter(t -> !t.at().isAfter(until))
              .min((x, y) -> x.at().compareTo(y.at()))
              .orElse(null);
      if (due == null) {
        break;
      }
      ticks.remove(due);
      now = due.at().isAfter(now) ? due.at() : now;
      send(new UpdateMachine.Tick(due.id()));
    }
    now = until;
    return this;
  }

  NodeSimulator send(Event first) {
    Deque<Event> events = new ArrayDeque<>();
    events.add(first);
    while (!events.isEmpty()) {
      UpdateMachine.Step step = machine.step(state, events.removeFirst(), now);
      state = step.state();
      for (Effect e : step.effects()) {
        if (effectsLeft-- <= 0) {
          return this; // the power went: nothing after this effect happens
        }
        effectsRun++;
        List<Event> out = run(e);
        if (cutAfter != null && cutAfter.isInstance(e)) {
          effectsLeft = 0; // the power goes once this effect is done, before its outcome is seen
          return this;
        }
        events.addAll(out);
        if (out.stream().anyMatch(o -> o instanceof UpdateMachine.Rejected)) {
          break;
        }
      }
    }
    return this;
  }

  private Class<? extends Effect> cutAfter;

  /** Cuts the power right after the first effect of {@code type} has run. */
  NodeSimulator powerCutAfterThe(Class<? extends Effect> type) {
    cutAfter = type;
    return this;
  }

  NodeSimulator powerCutAfter(int effects) {
    effectsLeft = effects;
    return this;
  }

  /** The power was cut: an effect was due after the last one {@link #powerCutAfter} allowed. */
  boolean poweredOff() {
    return effectsLeft < 0;
  }

  private List<Event> run(Effect effect) {
    try {
      return switch (effect) {
        case UpdateMachine.Journal j -> {
          journal.append(j.event(), j.assignmentId(), j.commandId(), j.model(), j.detail(), now);
          yield List.of();
        }
        case UpdateMachine.PublishResult r -> {
          results.add(r);
          wire.add(UpdateEngine.toWire(r, now)); // throws as the engine's publish would
          yield List.of();
        }
        case UpdateMachine.PublishProgress p -> List.of();
        case UpdateMachine.PersistFinished f -> {
          persistedFinished = f.ids();
          yield List.of();
        }
        case UpdateMachine.DiscardStaging d -> {
          store.discardStaging(d.id());
          yield List.of();
        }
        case UpdateMachine.DiscardOtherStaging d -> {
          for (String other : store.stagingIds()) {
            if (!other.equals(d.keepId())) {
              store.discardStaging(other);
            }
          }
          yield List.of();
        }
        case UpdateMachine.StartTransfer s -> transfer(s);
        case UpdateMachine.CancelTransfer c -> List.of();
        case UpdateMachine.Verify v -> {
          try {
            yield List.of(
                new UpdateMachine.Verified(
                    v.id(),
                    gate.verify(v.dir(), store.marks(), now, v.activeDigest(), v.repairDigest())));
          } catch (UpdateException e) {
            yield List.of(new UpdateMachine.Rejected(v.id(), e));
          }
        }
        case UpdateMachine.Install i -> {
          store.install(i.dir(), i.model());
          yield List.of(new UpdateMachine.Installed(i.id()));
        }
        case UpdateMachine.BeginTrial b -> {
          store.beginTrial(b.model(), b.id());
          yield List.of();
        }
        case UpdateMachine.Activate a -> {
          UpdateException fail = activationFailures.get(a.model().servingDigest());
          if (fail != null) {
            yield List.of(new UpdateMachine.ActivationFailed(a.id(), fail));
          }
          serving = a.model();
          servingScore = 0.9;
          activations.add(a.model());
          yield List.of(new UpdateMachine.Activated(a.id(), OptionalDouble.of(0.9), 0, health));
        }
        case UpdateMachine.Recheck r -> {
          rechecked.add(r.model());
          try {
            gate.recheck(store, r.model());
            yield List.of(new UpdateMachine.Rechecked(r.model(), null));
          } catch (UpdateException e) {
            yield List.of(new UpdateMachine.Rechecked(r.model(), e));
          }
        }
        case UpdateMachine.ServeActive s -> {
          serving = s.model();
          servingScore = s.model().activationScore();
          activations.add(s.model());
          yield List.of();
        }
        case UpdateMachine.Unload u -> {
          serving = null;
          servingScore = null;
          yield List.of();
        }
        case UpdateMachine.NoteServingProblem p -> {
          servingProblems.add(p);
          yield List.of();
        }
        case UpdateMachine.PutMark m -> {
          store.putMark(m.track(), m.mark());
          yield List.of();
        }
        case UpdateMachine.CommitTrial c -> {
          store.commit(c.activationScore());
          yield List.of();
        }
        case UpdateMachine.RollbackPointer r -> {
          store.rollback();
          yield List.of();
        }
        case UpdateMachine.RestorePrevious r -> {
          serving = store.previous().orElse(null);
          servingScore = serving == null ? null : serving.activationScore();
          if (serving != null) {
            activations.add(serving);
          }
          store.rollback();
          yield List.of(new UpdateMachine.Restored(store.pointer()));
        }
        case UpdateMachine.ForgetPrevious f -> {
          store.forgetPrevious();
          yield List.of();
        }
        case UpdateMachine.SettleRecovery s -> {
          store.settleRecovery();
          yield List.of();
        }
        case UpdateMachine.ScheduleTick t -> {
          ticks.add(t);
          yield List.of();
        }
        case UpdateMachine.SampleHealth s -> List.of(new UpdateMachine.SoakSample(s.id(), health));
        case UpdateMachine.UsbPhase u -> {
          usbPhases.add(u);
          yield List.of();
        }
        case UpdateMachine.UsbDone u -> {
          usbDone.put(u.id(), u);
          yield List.of();
        }
      };
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The bundle server's files copied into staging, or the failure set for this assignment. */
  private List<Event> transfer(UpdateMachine.StartTransfer s) throws IOException {
    transfers.add(s);
    String id = s.assignment().assignmentId();
    UpdateException fail = transferFailures.get(id);
    if (fail != null) {
      return List.of(
          new UpdateMachine.TransferStarted(id, false, 0),
          new UpdateMachine.TransferFailed(id, fail));
    }
    Path src = bundleServer.get(id);
    UpdateAssignment a = s.assignment();
    try (StagedTransfer t = StagedTransfer.open(store.stagingDir(id), a)) {
      boolean resumed = t.resumed();
      long held = t.bytesHave();
      for (int i = 0; i < a.files().size(); i++) {
        BundleFile f = a.files().get(i);
        BitSet missing = t.missing(i);
        for (int c = missing.nextSetBit(0); c >= 0; c = missing.nextSetBit(c + 1)) {
          t.write(i, c, chunk(src.resolve(f.name()), f, c, a.chunkBytes()));
          chunksFetched.merge(id, 1, Integer::sum);
        }
      }
      t.finish();
      return List.of(
          new UpdateMachine.TransferStarted(id, resumed, held),
          new UpdateMachine.BundleComplete(id, t.bundleDirectory(), 0));
    }
  }

  /** Chunk {@code c} of {@code file} as the bundle server sends it. */
  private static byte[] chunk(Path file, BundleFile f, int c, int chunkBytes) throws IOException {
    long offset = (long) c * chunkBytes;
    int length = (int) Math.min(chunkBytes, f.sizeBytes() - offset);
    byte[] data = new byte[length];
    try (var ch = java.nio.channels.FileChannel.open(file)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(data);
      while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) >= 0) {
        // reads until the chunk is full
      }
    }
    return data;
  }

  /** The journal's events for an id, in order, as persisted. */
  List<JournalEvent> journaled(String id) {
    return journal.entries().stream()
        .filter(e -> id.equals(e.assignmentId()))
        .map(JournalEntry::event)
        .toList();
  }

  /** The store as a restart finds it on disk. */
  ModelStore reopened() throws IOException {
    return ModelStore.open(data);
  }

  static Path bundle(TestBundles b, Path dir, TestBundles.Spec spec) throws Exception {
    return b.bundle(dir, spec);
  }
}
