package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.AtomicFiles;
import io.edgeslm.agent.internal.store.Details;
import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ReasonCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * USB side-loading (Uptane PURE-2 style offline updates): watches a mount directory; every
 * directory on it (or the mount itself) that holds a {@code model.sig} is a bundle. Each new bundle
 * is copied into staging (links, devices, unlisted depth and oversize refused while copying), then
 * verified and installed by the {@link UpdateEngine} exactly as an MQTT update, and the outcome is
 * written to {@value #RESULT_FILE} on the stick, one entry per bundle.
 *
 * <p>The mount is polled ({@link #scan}), not watched with inotify: removable media are mounted and
 * unmounted under the watcher's feet, and polling every few seconds costs nothing measurable.
 */
public final class UsbSideLoader {

  public static final String RESULT_FILE = "edgeslm-result.json";
  public static final String SIGNATURE = "model.sig";
  public static final String RELEASE = "release.json";
  public static final String MARKER_FILE = "edgeslm-in-progress.json";
  static final int MAX_FILES = 10_000;
  static final int MAX_DEPTH = 32;
  static final long MAX_BUNDLE_BYTES = 64L << 30;

  private static final Logger LOG = Logger.getLogger(UsbSideLoader.class.getName());

  /**
   * One line of the result file; names and reasons are escaped and bounded (they may quote model
   * output or names from the stick).
   */
  public record BundleOutcome(
      String bundle,
      String outcome,
      ReasonCode reasonCode,
      String reason,
      String model,
      Long version,
      Instant at) {
    public BundleOutcome {
      bundle = Details.printable(bundle, 255);
      reason = Details.printable(reason, 1000);
    }
  }

  /** The result file. */
  public record ResultFile(int schemaVersion, String nodeId, List<BundleOutcome> results) {}

  private final Path mount;
  private final UpdateEngine engine;
  private final ModelStore store;
  private final String nodeId;
  private final Clock clock;
  private final long timeoutMillis;
  private final Object markerLock = new Object();
  private String markerBundle; // the bundle the marker may speak for now, or null
  private final Map<String, String> seen = new HashMap<>();
  private final List<BundleOutcome> results = new ArrayList<>();
  private long seq;

  public UsbSideLoader(
      Path mount,
      UpdateEngine engine,
      ModelStore store,
      String nodeId,
      Clock clock,
      long timeoutMillis) {
    this.mount = mount;
    this.engine = engine;
    this.store = store;
    this.nodeId = nodeId;
    this.clock = clock;
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * Looks at the mount once and processes every bundle not handled since the stick was inserted.
   * Returns the outcomes of this scan (empty when nothing new).
   */
  public synchronized List<BundleOutcome> scan() {
    if (!Files.isDirectory(mount)) {
      if (!seen.isEmpty()) {
        LOG.info("USB mount " + mount + " is gone; a new stick starts a new result file");
      }
      seen.clear();
      results.clear();
      return List.of();
    }
    List<Path> bundles = new ArrayList<>();
    if (isBundle(mount)) {
      bundles.add(mount);
    } else {
      try (Stream<Path> s = Files.list(mount)) {
        s.sorted()
            .filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p))
            .filter(p -> isBundle(p) || Files.isSymbolicLink(p))
            .forEach(bundles::add);
      } catch (IOException e) {
        LOG.warning("Cannot list " + mount + ": " + e.getMessage());
        return List.of();
      }
    }
    List<BundleOutcome> now = new ArrayList<>();
    for (Path b : bundles) {
      String name = b.equals(mount) ? "." : b.getFileName().toString();
      String fp = fingerprint(b);
      if (fp.equals(seen.get(name))) {
        continue;
      }
      seen.put(name, fp);
      BundleOutcome o = process(name, b);
      results.removeIf(r -> r.bundle().equals(name));
      results.add(o);
      now.add(o);
    }
    if (!now.isEmpty()) {
      writeResults();
      synchronized (markerLock) {
        try {
          Files.deleteIfExists(mount.resolve(MARKER_FILE));
        } catch (IOException e) {
          LOG.fine("Cannot remove the progress marker: " + e.getMessage());
        }
      }
    }
    return now;
  }

  /**
   * A directory a technician meant as a bundle: it holds {@code model.sig}, or a {@code
   * release.json} without one (an unsigned bundle gets a result saying so, instead of silence).
   */
  private static boolean isBundle(Path dir) {
    return Files.exists(dir.resolve(SIGNATURE), LinkOption.NOFOLLOW_LINKS)
        || Files.isRegularFile(dir.resolve(RELEASE), LinkOption.NOFOLLOW_LINKS);
  }

  private BundleOutcome process(String name, Path bundle) {
    String id = "usb-" + clock.millis() + "-" + (++seq);
    Path stagedDir = store.root().resolve("staging").resolve(id).resolve("bundle");
    synchronized (markerLock) {
      markerBundle = name;
    }
    try {
      marker(name, "copying", null);
      if (Files.isSymbolicLink(bundle)) {
        throw reject(
            ReasonCode.LINK_REFUSED,
            "The bundle '"
                + name
                + "' is a symbolic link; copy the real directory onto the stick.");
      }
      if (!Files.exists(bundle.resolve(SIGNATURE), LinkOption.NOFOLLOW_LINKS)) {
        throw reject(
            ReasonCode.UNSIGNED_BUNDLE,
            "The bundle '"
                + name
                + "' has a release.json but no model.sig: it was never signed. Sign it with the"
                + " model-signing CLI and copy it onto the stick again.");
      }
      Path staged = store.stagingDir(id).resolve("bundle");
      copy(bundle, staged);
      marker(name, "waiting", null); // until the engine starts on it (another update may run)
      StoredModel m =
          engine
              .installFromDirectory(
                  id, staged, p -> marker(name, markerState(p.phase()), p.soakEndsAt()))
              .get(timeoutMillis, TimeUnit.MILLISECONDS);
      return new BundleOutcome(
          name, "activated", null, null, m.name(), m.version(), clock.instant());
    } catch (UpdateException e) {
      discard(id);
      return outcome(name, e, stagedDir);
    } catch (ExecutionException e) {
      discard(id);
      if (e.getCause() instanceof UpdateException u) {
        return outcome(name, u, stagedDir);
      }
      return new BundleOutcome(
          name,
          "failed",
          ReasonCode.INTERNAL,
          String.valueOf(e.getCause()),
          null,
          null,
          clock.instant());
    } catch (java.util.concurrent.TimeoutException e) {
      return new BundleOutcome(
          name,
          "failed",
          ReasonCode.TIMEOUT,
          "Installing took longer than " + timeoutMillis / 1000 + " s; see the node's journal.",
          null,
          null,
          clock.instant());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new BundleOutcome(
          name,
          "failed",
          ReasonCode.INTERRUPTED,
          "The agent stopped.",
          null,
          null,
          clock.instant());
    } catch (IOException e) {
      discard(id);
      // A file that vanished under the copy means the stick went away, even when its directory
      // entry has not disappeared yet (unmounting, or a technician pulling it, is not atomic).
      ReasonCode code =
          sourceVanished(e) || !Files.isDirectory(bundle)
              ? ReasonCode.COPY_INTERRUPTED
              : ReasonCode.COPY_FAILED;
      String reason =
          code == ReasonCode.COPY_INTERRUPTED
              ? "The stick was removed (or the bundle vanished) while copying: "
                  + e.getMessage()
                  + ". Re-insert the stick; nothing was installed."
              : "Copying failed: "
                  + e.getMessage()
                  + ". Check the stick and the node's free space.";
      return new BundleOutcome(name, "failed", code, reason, null, null, clock.instant());
    } finally {
      synchronized (markerLock) {
        markerBundle = null; // an update still running after a timeout no longer writes it
      }
    }
  }

  private static boolean sourceVanished(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.nio.file.NoSuchFileException) {
        return true;
      }
    }
    return false;
  }

  private BundleOutcome outcome(String name, UpdateException e, Path stagedDir) {
    String outcome =
        switch (e.fault()) {
          case MODEL -> "rolled_back";
          case ARTIFACT -> "rejected";
          default -> "failed";
        };
    // The node's staging paths mean nothing on the stick: name the bundle as the stick has it.
    String reason =
        String.valueOf(e.getMessage())
            .replace(stagedDir + "/", name + "/")
            .replace(stagedDir.toString(), "'" + name + "'");
    return new BundleOutcome(name, outcome, e.reasonCode(), reason, null, null, clock.instant());
  }

  /**
   * Writes {@value #MARKER_FILE} on the stick: which bundle is being handled and in what state:
   * {@code copying} (the stick is read), {@code waiting} (copied; another update runs first), then
   * the update's phases as the {@link UpdateMachine} enters them, {@code verifying}, {@code
   * installing}, {@code activating}, {@code soaking} (with {@code soakEndsAt}) and, when the model
   * fails its soak, {@code rolling_back}. It is deleted once the result file has every bundle's
   * outcome (done); while it exists, the stick is still needed. Called on the scan's thread and on
   * the engine's.
   */
  private void marker(String bundle, String state, Instant soakEndsAt) {
    synchronized (markerLock) {
      if (!bundle.equals(markerBundle)) {
        return;
      }
      try {
        writeAtomically(
            mount.resolve(MARKER_FILE),
            Json.mapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsBytes(
                    new InProgress(
                        1,
                        nodeId,
                        Details.printable(bundle, 255),
                        state,
                        clock.instant(),
                        soakEndsAt)));
      } catch (IOException e) {
        LOG.fine(
            "Cannot write the progress marker (stick removed or read-only?): " + e.getMessage());
      }
    }
  }

  /** The marker's state for a phase of the update (a side-load never downloads: it was copied). */
  static String markerState(UpdateMachine.Phase phase) {
    return switch (phase) {
      case DOWNLOADING -> "copying";
      case VERIFYING -> "verifying";
      case INSTALLING -> "installing";
      case ACTIVATING -> "activating";
      case SOAKING -> "soaking";
      case RESTORING -> "rolling_back";
    };
  }

  /**
   * The in-progress marker's content.
   *
   * @param soakEndsAt while soaking, when the soak ends if the model stays healthy; else absent
   */
  public record InProgress(
      int schemaVersion,
      String nodeId,
      String bundle,
      String state,
      Instant at,
      Instant soakEndsAt) {}

  private void writeAtomically(Path target, byte[] content) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + AtomicFiles.TMP_SUFFIX);
    Files.write(tmp, content);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private void discard(String id) {
    try {
      store.discardStaging(id);
    } catch (IOException e) {
      LOG.warning("Cannot clean staging " + id + ": " + e.getMessage());
    }
  }

  private static UpdateException reject(ReasonCode code, String msg) {
    return new UpdateException(UpdateException.Fault.ARTIFACT, code, msg);
  }

  /**
   * Copies a bundle tree into staging, refusing anything but directories and regular files, and
   * bounding the count, depth and size before the verifier ever sees it (OMS A7, A9).
   */
  void copy(Path from, Path to) throws IOException, UpdateException {
    copyBundle(from, to, store);
  }

  /**
   * Copies the bundle tree {@code from} into {@code to} (a staging directory of {@code store}) with
   * the same refusals as a stick: links, special files, {@code ..} names, more than {@value
   * #MAX_FILES} entries, nesting deeper than {@value #MAX_DEPTH}, more than 64 GiB, or more than
   * half the free space.
   *
   * @throws UpdateException fault {@code ARTIFACT} with the refusal's reason code, or {@code LOCAL}
   *     / {@code disk_full}
   * @throws IOException when reading or writing fails (the source vanished, the disk broke)
   */
  public static void copyBundle(Path from, Path to, ModelStore store)
      throws IOException, UpdateException {
    List<Path> entries;
    try (Stream<Path> s = Files.walk(from, MAX_DEPTH + 1)) {
      entries = s.toList();
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause(); // an entry vanished while listing: classified like any copy failure
    }
    if (entries.size() > MAX_FILES) {
      throw reject(
          ReasonCode.TOO_MANY_FILES, "The bundle holds more than " + MAX_FILES + " entries.");
    }
    long total = 0;
    for (Path p : entries) {
      BasicFileAttributes a =
          Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      Path rel = from.relativize(p);
      if (rel.getNameCount() > MAX_DEPTH) {
        throw reject(
            ReasonCode.TOO_DEEP, "'" + rel + "' is nested deeper than " + MAX_DEPTH + " levels.");
      }
      for (Path part : rel) {
        String n = part.toString();
        if (n.equals("..") || n.contains("\\") || n.contains("\0")) {
          throw reject(ReasonCode.BAD_NAME, "The bundle holds an unsafe name '" + rel + "'.");
        }
      }
      if (a.isSymbolicLink()) {
        throw reject(
            ReasonCode.LINK_REFUSED,
            "The bundle holds a symbolic link '"
                + rel
                + "'; links are refused (they could point anywhere). Re-copy the bundle without links.");
      }
      if (!a.isDirectory() && !a.isRegularFile()) {
        throw reject(
            ReasonCode.SPECIAL_FILE_REFUSED,
            "The bundle holds '" + rel + "', which is neither a file nor a directory.");
      }
      if (a.isRegularFile()) {
        total += a.size();
      }
    }
    if (total > MAX_BUNDLE_BYTES) {
      throw reject(
          ReasonCode.TOO_LARGE,
          "The bundle holds " + total + " bytes, above the " + MAX_BUNDLE_BYTES + " limit.");
    }
    if (store.usableBytes() < 2 * total) {
      throw new UpdateException(
          UpdateException.Fault.LOCAL,
          ReasonCode.DISK_FULL,
          "Not enough disk space to copy "
              + total / (1 << 20)
              + " MiB from the stick; free space on the node.");
    }
    byte[] buf = new byte[1 << 20];
    for (Path p : entries) {
      Path rel = from.relativize(p);
      Path target = to.resolve(rel.toString()).normalize();
      if (!target.startsWith(to)) {
        throw reject(ReasonCode.BAD_NAME, "'" + rel + "' leaves the staging directory.");
      }
      if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(target);
        continue;
      }
      Files.createDirectories(target.getParent());
      try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS);
          OutputStream out =
              Files.newOutputStream(
                  target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        int n;
        while ((n = in.read(buf)) > 0) {
          out.write(buf, 0, n);
        }
      }
    }
  }

  private static String fingerprint(Path bundle) {
    try {
      BasicFileAttributes a =
          Files.readAttributes(
              bundle.resolve(SIGNATURE), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      return a.size() + "@" + a.lastModifiedTime().toMillis();
    } catch (IOException e) {
      return "unreadable";
    }
  }

  private void writeResults() {
    Path target = mount.resolve(RESULT_FILE);
    Path tmp = mount.resolve(RESULT_FILE + AtomicFiles.TMP_SUFFIX);
    try {
      Files.write(
          tmp,
          Json.mapper()
              .writerWithDefaultPrettyPrinter()
              .writeValueAsBytes(new ResultFile(1, nodeId, List.copyOf(results))));
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.warning("Cannot write " + target + " (stick removed or read-only?): " + e.getMessage());
    }
  }
}
