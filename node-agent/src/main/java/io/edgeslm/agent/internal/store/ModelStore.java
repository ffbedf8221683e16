package io.edgeslm.agent.internal.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgeslm.protocol.Json;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.ReleaseTrack;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The node's models on disk.
 *
 * <pre>
 * {dataDir}/
 *   pointer.json            active + previous model, trial flag (atomically replaced)
 *   marks.json              version high-water mark per (model, channel) (atomically replaced)
 *   models/{digest}/        verified bundles, named by their OMS root digest
 *   models/{digest}/.edgeslm-installed   marker written (and forced) after verification
 *   staging/{id}/           downloads and side-loads in progress (see {@link StagedTransfer})
 *   journal/                the update journal (see {@link UpdateJournal})
 * </pre>
 *
 * <p>Invariant: the pointer names only directories under {@code models/} that carry the installed
 * marker, and a directory gets there only by an atomic rename after the bundle verified. {@link
 * #open} re-establishes the invariant after any crash: it removes temporary files, model
 * directories the pointer does not name, and staging directories that cannot be resumed. Not
 * thread-safe: one update runs at a time (the {@code UpdateEngine} serialises them).
 */
public final class ModelStore {

  public static final String MARKER = ".edgeslm-installed";
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final Path root;
  private final Path models;
  private final Path staging;
  private StorePointer pointer;
  private final Map<ReleaseTrack, HighWaterMark> marks = new HashMap<>();
  private final List<String> recoveryNotes = new ArrayList<>();

  private record Mark(String model, String channel, long version, List<String> signerKeyIds) {}

  private ModelStore(Path root) {
    this.root = root;
    this.models = root.resolve("models");
    this.staging = root.resolve("staging");
  }

  /**
   * Opens the store, creating it when absent, and recovers from an interrupted write.
   *
   * @throws IOException when the directory cannot be created or read
   */
  public static ModelStore open(Path dataDir) throws IOException {
    ModelStore s = new ModelStore(dataDir.toAbsolutePath());
    Files.createDirectories(s.models);
    Files.createDirectories(s.staging);
    Files.createDirectories(s.root.resolve("journal"));
    s.recover();
    return s;
  }

  public Path root() {
    return root;
  }

  /** What recovery did on open, for the log and the journal (empty after a clean stop). */
  public List<String> recoveryNotes() {
    return List.copyOf(recoveryNotes);
  }

  public StorePointer pointer() {
    return pointer;
  }

  public Optional<StoredModel> active() {
    return Optional.ofNullable(pointer.active());
  }

  public Optional<StoredModel> previous() {
    return Optional.ofNullable(pointer.previous());
  }

  /** The directory of a stored model. */
  public Path directory(StoredModel m) {
    return models.resolve(m.digest());
  }

  /** Whether a model with this digest is installed (verified and renamed into place). */
  public boolean isInstalled(String digest) {
    return Files.isRegularFile(models.resolve(digest).resolve(MARKER), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Whether a pointer entry can serve: its base model is installed, and so is its adapter, if any.
   */
  public boolean isInstalled(StoredModel entry) {
    return isInstalled(entry.digest())
        && (entry.adapter() == null || isInstalled(entry.adapter().digest()));
  }

  /** The high-water marks, for the release policy. */
  public Map<ReleaseTrack, HighWaterMark> marks() {
    return Map.copyOf(marks);
  }

  /**
   * Sets the mark of a track, durably. The store does not decide: the caller passes the release
   * policy's next mark ({@code ReleasePolicy.nextMark}), which may lower a mark that no longer
   * binds (set by since-revoked keys) and never lowers a binding one. No-op when unchanged.
   */
  public void putMark(ReleaseTrack track, HighWaterMark mark) throws IOException {
    if (mark.equals(marks.get(track))) {
      return;
    }
    marks.put(track, mark);
    List<Mark> out = new ArrayList<>();
    marks.forEach(
        (t, m) ->
            out.add(
                new Mark(
                    t.model(),
                    t.channel(),
                    m.version(),
                    List.copyOf(new TreeSet<>(m.signerKeyIds())))));
    AtomicFiles.write(root.resolve("marks.json"), Json.write(out));
  }

  /** The staging directory for an assignment or side-load id (created if needed). */
  public Path stagingDir(String id) throws IOException {
    requireId(id);
    Path d = staging.resolve(id);
    Files.createDirectories(d);
    return d;
  }

  /** Staging ids present on disk (interrupted downloads that may be resumed). */
  public List<String> stagingIds() throws IOException {
    try (Stream<Path> s = Files.list(staging)) {
      return s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> p.getFileName().toString())
          .sorted()
          .toList();
    }
  }

  /** Deletes a staging directory. */
  public void discardStaging(String id) throws IOException {
    requireId(id);
    AtomicFiles.deleteTree(staging.resolve(id));
    AtomicFiles.syncDirectory(staging);
  }

  /**
   * Puts a verified bundle directory into the store under its digest. The caller must have verified
   * {@code verifiedDir} (signature, trust, policy) immediately before; the marker written here is
   * what {@link #open} trusts afterwards. If the digest is already installed, the staged copy is
   * deleted instead.
   *
   * <p>The files are hard-linked into the store rather than moved, so the staged transfer stays
   * whole until the caller discards it: a power cut after the install but before that discard
   * resumes with every chunk held (and finds the digest installed) instead of fetching the bundle
   * again. A file system without hard links gets the files moved, as before.
   */
  public void install(Path verifiedDir, StoredModel model) throws IOException {
    Path target = models.resolve(model.digest());
    if (isInstalled(model.digest())) {
      AtomicFiles.deleteTree(verifiedDir);
      return;
    }
    AtomicFiles.deleteTree(target); // a half-installed leftover of the same digest
    Path tmp = models.resolve(model.digest() + AtomicFiles.TMP_SUFFIX); // removed by recovery
    AtomicFiles.deleteTree(tmp);
    if (!linkTree(verifiedDir, tmp)) {
      AtomicFiles.deleteTree(tmp);
      AtomicFiles.write(verifiedDir.resolve(MARKER), Json.write(model));
      AtomicFiles.move(verifiedDir, target);
      return;
    }
    AtomicFiles.write(tmp.resolve(MARKER), Json.write(model));
    AtomicFiles.move(tmp, target);
  }

  /**
   * Recreates {@code from}'s tree under {@code to} with hard links to its files.
   *
   * @return false when the file system does not support hard links
   */
  private static boolean linkTree(Path from, Path to) throws IOException {
    List<Path> entries;
    try (Stream<Path> s = Files.walk(from)) {
      entries = s.toList();
    }
    for (Path p : entries) {
      Path q = to.resolve(from.relativize(p).toString());
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(q);
      } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        try {
          Files.createLink(q, p);
        } catch (UnsupportedOperationException | FileSystemException e) {
          if (e instanceof FileSystemException fse && !isNoLinkSupport(fse)) {
            throw fse;
          }
          return false;
        }
      } else {
        throw new IOException(
            "Staged bundle entry "
                + from.relativize(p)
                + " is neither a file nor a directory; only regular files are installed.");
      }
    }
    AtomicFiles.syncDirectory(to);
    return true;
  }

  private static boolean isNoLinkSupport(FileSystemException e) {
    String reason = String.valueOf(e.getReason());
    return reason.contains("not permitted") || reason.contains("not supported");
  }

  /** Switches traffic to {@code model} on trial; the current active becomes the previous. */
  public void beginTrial(StoredModel model, String assignmentId) throws IOException {
    requireInstalled(model);
    StoredModel prev = pointer.active();
    if (prev != null && prev.sameServing(model)) {
      prev = pointer.previous();
    }
    writePointer(new StorePointer(model, prev, true, assignmentId));
  }

  /** Commits the trial without an activation score (the model had no check). */
  public void commit() throws IOException {
    commit(null);
  }

  /**
   * Commits the trial: the active model stays, with the score its activation check gave (kept in
   * the pointer, so a restart reports it without running the check again); older models are
   * garbage-collected.
   *
   * @param activationScore the check's score, or null when none ran
   */
  public void commit(Double activationScore) throws IOException {
    StoredModel active = pointer.active();
    writePointer(
        new StorePointer(
            active == null ? null : active.withActivationScore(activationScore),
            pointer.previous(),
            false,
            null));
    collectGarbage();
  }

  /**
   * Makes the previous model active again (automatic or ordered rollback). The model rolled back
   * from is forgotten and deleted: it failed, and a retry arrives as a new assignment.
   *
   * @return the model now active, if any
   */
  public Optional<StoredModel> rollback() throws IOException {
    StoredModel back = pointer.previous();
    if (back != null && !isInstalled(back)) {
      back = null;
    }
    writePointer(new StorePointer(back, null, false, null));
    collectGarbage();
    return Optional.ofNullable(back);
  }

  /**
   * Forgets the previous model and deletes it (it no longer verifies): the active model and any
   * trial stay as they are.
   */
  public void forgetPrevious() throws IOException {
    writePointer(
        new StorePointer(pointer.active(), null, pointer.trial(), pointer.trialAssignmentId()));
    collectGarbage();
  }

  /** Usable bytes on the store's file system. */
  public long usableBytes() throws IOException {
    return Files.getFileStore(root).getUsableSpace();
  }

  private void writePointer(StorePointer p) throws IOException {
    AtomicFiles.write(root.resolve("pointer.json"), Json.write(p));
    pointer = p;
  }

  private void requireInstalled(StoredModel m) throws IOException {
    if (!isInstalled(m)) {
      throw new IOException(
          "Model "
              + m.describe()
              + " is not installed in "
              + models
              + "; only verified, installed models can be activated.");
    }
  }

  private static void requireId(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "staging id must be 1-128 of A-Z a-z 0-9 . _ - starting with a letter or digit: got '"
              + id
              + "'.");
    }
  }

  /**
   * Deletes model directories that neither the active nor the previous pointer names (as a base
   * model or as the adapter applied on top of one).
   */
  private void collectGarbage() throws IOException {
    Set<String> keep = new TreeSet<>();
    for (StoredModel m : new StoredModel[] {pointer.active(), pointer.previous()}) {
      if (m != null) {
        keep.add(m.digest());
        if (m.adapter() != null) {
          keep.add(m.adapter().digest());
        }
      }
    }
    try (Stream<Path> s = Files.list(models)) {
      for (Path p : s.toList()) {
        if (!keep.contains(p.getFileName().toString())) {
          AtomicFiles.deleteTree(p);
          recoveryNotes.add("removed unreferenced model directory " + p.getFileName());
        }
      }
    }
    AtomicFiles.syncDirectory(models);
  }

  private void recover() throws IOException {
    for (Path dir : List.of(root, models)) {
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.toList()) {
          if (p.getFileName().toString().endsWith(AtomicFiles.TMP_SUFFIX)) {
            AtomicFiles.deleteTree(p);
            recoveryNotes.add("removed unfinished temporary " + root.relativize(p));
          }
        }
      }
    }
    Path marksFile = root.resolve("marks.json");
    if (Files.exists(marksFile)) {
      List<Mark> list =
          Json.mapper()
              .readValue(Files.readAllBytes(marksFile), new TypeReference<List<Mark>>() {});
      for (Mark m : list) {
        marks.put(
            new ReleaseTrack(m.model(), m.channel()),
            new HighWaterMark(m.version(), Set.copyOf(m.signerKeyIds())));
      }
    }
    Path pointerFile = root.resolve("pointer.json");
    StorePointer p =
        Files.exists(pointerFile)
            ? Json.mapper().readValue(Files.readAllBytes(pointerFile), StorePointer.class)
            : StorePointer.EMPTY;
    StoredModel active = p.active();
    StoredModel previous = p.previous();
    if (previous != null && !isInstalled(previous)) {
      recoveryNotes.add("previous model " + previous.describe() + " is missing; forgotten");
      previous = null;
    }
    boolean trial = p.trial();
    if (active != null && !isInstalled(active)) {
      recoveryNotes.add("active model " + active.describe() + " is missing; using the previous");
      active = previous;
      previous = null;
      trial = false;
    }
    if (trial) {
      recoveryNotes.add(
          "restarted while "
              + active.describe()
              + " was on trial (assignment "
              + p.trialAssignmentId()
              + "); rolled back to "
              + (previous == null ? "no model" : previous.describe()));
      active = previous;
      previous = null;
    }
    pointer = new StorePointer(active, previous, false, null);
    trialInterrupted = trial ? p : null;
    // An interrupted trial stays on disk until the caller has journaled its rollback ({@link
    // #settleRecovery}): a crash in between reports it again at the next start instead of never.
    if (!pointer.equals(p) && !trial) {
      AtomicFiles.write(pointerFile, Json.write(pointer));
    }
    // Verified but unreferenced models stay (an install whose switch was interrupted can then be
    // activated without downloading again); half-installed directories without a marker go.
    try (Stream<Path> s = Files.list(models)) {
      for (Path d : s.toList()) {
        if (!isInstalled(d.getFileName().toString())) {
          AtomicFiles.deleteTree(d);
          recoveryNotes.add("removed half-installed model directory " + d.getFileName());
        }
      }
    }
  }

  /** The installed model with this digest, read from its marker. */
  public Optional<StoredModel> installed(String digest) throws IOException {
    if (!digest.matches("[0-9a-f]{64}") || !isInstalled(digest)) {
      return Optional.empty();
    }
    return Optional.of(
        Json.mapper()
            .readValue(
                Files.readAllBytes(models.resolve(digest).resolve(MARKER)), StoredModel.class));
  }

  private StorePointer trialInterrupted;

  /** The pointer as found on open when a trial was interrupted by a restart (now rolled back). */
  public Optional<StorePointer> interruptedTrial() {
    return Optional.ofNullable(trialInterrupted);
  }

  /**
   * Writes the pointer recovery decided on, once an interrupted trial's rollback is journaled.
   * Until then the file still says "on trial", so a crash before the report repeats the rollback
   * and its report rather than losing it. No-op when nothing is pending.
   */
  public void settleRecovery() throws IOException {
    if (trialInterrupted != null) {
      AtomicFiles.write(root.resolve("pointer.json"), Json.write(pointer));
    }
  }

  /** A model record for a bundle just verified. */
  public static StoredModel describe(
      String digest,
      String name,
      long version,
      String channel,
      String modelFile,
      String evaluationFile,
      Set<String> signers,
      Instant now) {
    return describe(digest, name, version, channel, modelFile, evaluationFile, signers, now, null);
  }

  /**
   * A record for a bundle just verified: a model, or (with {@code baseDigest}, lowercase hex) a
   * LoRA adapter for that base model.
   */
  public static StoredModel describe(
      String digest,
      String name,
      long version,
      String channel,
      String modelFile,
      String evaluationFile,
      Set<String> signers,
      Instant now,
      String baseDigest) {
    Objects.requireNonNull(signers, "signers");
    return new StoredModel(
        digest,
        name,
        version,
        channel,
        modelFile,
        evaluationFile,
        List.copyOf(new TreeSet<>(signers)),
        now,
        null,
        baseDigest,
        null);
  }
}
