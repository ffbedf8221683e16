package io.edgeslm.signing;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Decides whether a node may activate a verified bundle now: pure logic over the bundle's signed
 * {@code release.json} and the node's facts, no I/O and no clock (the time is in {@link
 * NodeFacts#now()}).
 *
 * <p>Checks, in order: release metadata present; its model and evaluation files are signed
 * resources; the node is assigned the model and follows the channel; architecture, device class,
 * RAM, labels and agent version match the target; the release has not expired; the version is above
 * the high-water mark of the track, unless that mark was set by keys the trust store no longer
 * trusts at the release threshold (recovery from fast-forward, after TUF).
 */
public final class ReleasePolicy {
  private static final ReleasePolicy STANDARD = new ReleasePolicy();

  private ReleasePolicy() {}

  public static ReleasePolicy standard() {
    return STANDARD;
  }

  /**
   * Returns the release metadata when the node may activate the bundle.
   *
   * @throws PolicyException with the refusing rule as {@link PolicyException#reason()}
   */
  public ReleaseMetadata check(VerifiedBundle bundle, NodeFacts node) throws PolicyException {
    String dir = bundle.directory().toString();
    ReleaseMetadata r =
        bundle
            .release()
            .orElseThrow(
                () ->
                    new PolicyException(
                        PolicyException.Reason.NO_RELEASE_METADATA,
                        "Bundle "
                            + dir
                            + " has no signed release.json, so nothing says which nodes, version"
                            + " or expiry it is for. Add one with 'release init' and re-sign."));
    String what = "Release " + r.model() + " v" + r.version() + " (" + r.channel() + ")";
    requireFile(bundle, r.modelFile(), "modelFile", what);
    if (r.evaluationFile().isPresent()) {
      requireFile(bundle, r.evaluationFile().get(), "evaluationFile", what);
    }
    requireAssigned(r.model(), r.channel(), node, what);
    TargetSelector t = r.target();
    if (!t.architectures().isEmpty() && !t.architectures().contains(node.architecture())) {
      throw new PolicyException(
          PolicyException.Reason.WRONG_ARCHITECTURE,
          what
              + " targets architectures "
              + t.architectures()
              + ", this node is "
              + node.architecture()
              + ". Publish a build for "
              + node.architecture()
              + ".");
    }
    if (!t.deviceClasses().isEmpty() && !t.deviceClasses().contains(node.deviceClass())) {
      throw new PolicyException(
          PolicyException.Reason.WRONG_DEVICE_CLASS,
          what
              + " targets device classes "
              + t.deviceClasses()
              + ", this node is '"
              + node.deviceClass()
              + "'. Check the rollout target.");
    }
    if (node.ramMb() < t.minRamMb()) {
      throw new PolicyException(
          PolicyException.Reason.INSUFFICIENT_RAM,
          what
              + " needs at least "
              + t.minRamMb()
              + " MiB of RAM, this node has "
              + node.ramMb()
              + " MiB. Target larger nodes or publish a smaller model.");
    }
    for (Map.Entry<String, String> l : t.labels().entrySet()) {
      String have = node.labels().get(l.getKey());
      if (!l.getValue().equals(have)) {
        throw new PolicyException(
            PolicyException.Reason.LABEL_MISMATCH,
            what
                + " requires label "
                + l.getKey()
                + "="
                + l.getValue()
                + ", this node has "
                + (have == null ? "no such label" : l.getKey() + "=" + have)
                + ". Check the rollout target or the node's labels.");
      }
    }
    if (compareVersions(node.agentVersion(), r.minAgentVersion()) < 0) {
      throw new PolicyException(
          PolicyException.Reason.AGENT_TOO_OLD,
          what
              + " needs agent "
              + r.minAgentVersion()
              + " or newer, this node runs "
              + node.agentVersion()
              + ". Update the agent first.");
    }
    if (!node.now().isBefore(r.expires())) {
      long days = Duration.between(r.expires(), node.now()).toDays();
      throw new PolicyException(
          PolicyException.Reason.EXPIRED,
          what
              + " expired at "
              + r.expires()
              + " ("
              + days
              + " days ago; now "
              + node.now()
              + "). An expired release may be a replayed or frozen one; ask the release manager"
              + " for a fresh release.");
    }
    requireAboveMark(r.track(), r.version(), node, bundle.trust(), what);
    return r;
  }

  /** The mark to persist once the bundle is activated. */
  public HighWaterMark markAfterActivation(VerifiedBundle bundle, ReleaseMetadata release) {
    return new HighWaterMark(release.version(), bundle.signerKeyIds());
  }

  /**
   * What can be refused before a byte of a bundle is fetched, from the version and track an
   * assignment announces: the node follows the model on this channel, and the version is above the
   * track's high-water mark unless that mark no longer binds (the same rules, in the same words, as
   * {@link #check}). Passing proves nothing about the bundle: its signed release is checked again
   * by {@link #check} once it is here.
   *
   * @throws PolicyException {@code WRONG_MODEL}, {@code WRONG_CHANNEL} or {@code ROLLBACK}
   */
  public void precheck(ReleaseTrack track, long version, NodeFacts node, TrustStore trust)
      throws PolicyException {
    String what = "Release " + track.model() + " v" + version + " (" + track.channel() + ")";
    requireAssigned(track.model(), track.channel(), node, what);
    requireAboveMark(track, version, node, trust, what);
  }

  /**
   * The mark to persist once a bundle is committed: {@code activated} when it is above {@code
   * current}, or when {@code current} no longer binds under {@code trust} (its signers were
   * revoked, so it may be a compromised key's absurd version); otherwise {@code current}. Replacing
   * a non-binding mark is what makes rollback protection bind again on that track after a rotation.
   *
   * @param current the track's mark now, or null
   * @param activated the committed bundle's mark ({@link #markAfterActivation})
   */
  public HighWaterMark nextMark(HighWaterMark current, HighWaterMark activated, TrustStore trust) {
    if (current == null
        || activated.version() > current.version()
        || !markStillBinding(current, trust)) {
      return activated;
    }
    return current;
  }

  private static void requireAssigned(String model, String channel, NodeFacts node, String what)
      throws PolicyException {
    String assigned = node.assignedChannels().get(model);
    if (assigned == null) {
      throw new PolicyException(
          PolicyException.Reason.WRONG_MODEL,
          what
              + " is for model '"
              + model
              + "', which this node is not assigned (assigned: "
              + node.assignedChannels().keySet()
              + "). The bundle was sent to the wrong node; check the rollout target.");
    }
    if (!assigned.equals(channel)) {
      throw new PolicyException(
          PolicyException.Reason.WRONG_CHANNEL,
          what
              + " is on channel '"
              + channel
              + "', but this node follows '"
              + assigned
              + "' for "
              + model
              + ". Publish it on '"
              + assigned
              + "' or reassign the node.");
    }
  }

  private static void requireAboveMark(
      ReleaseTrack track, long version, NodeFacts node, TrustStore trust, String what)
      throws PolicyException {
    HighWaterMark mark = node.highWaterMarks().get(track);
    if (mark != null && version <= mark.version() && markStillBinding(mark, trust)) {
      throw new PolicyException(
          PolicyException.Reason.ROLLBACK,
          what
              + " is not newer than the installed high-water mark v"
              + mark.version()
              + " for "
              + track
              + " (rule: versions only increase). Refusing a rollback; publish version "
              + (mark.version() + 1)
              + " or higher.");
    }
  }

  /**
   * A mark binds unless its recorded signers no longer reach the release threshold among the keys
   * the current trust store trusts: they were revoked, so a version they signed (possibly an absurd
   * one from a compromised key) must not block releases signed by the new keys.
   */
  static boolean markStillBinding(HighWaterMark mark, TrustStore trust) {
    if (mark.signerKeyIds().isEmpty()) {
      return true;
    }
    Set<String> stillTrusted = new HashSet<>(mark.signerKeyIds());
    Set<String> current = new HashSet<>();
    trust.keys(KeyRole.RELEASE).forEach(k -> current.add(k.keyId()));
    stillTrusted.retainAll(current);
    return stillTrusted.size() >= trust.threshold(KeyRole.RELEASE);
  }

  private static void requireFile(VerifiedBundle b, String name, String field, String what)
      throws PolicyException {
    if (b.file(name).isEmpty()) {
      throw new PolicyException(
          PolicyException.Reason.MISSING_RELEASE_FILE,
          what
              + ": release.json "
              + field
              + " names '"
              + name
              + "', which is not a signed file of the bundle. Fix release.json and re-sign.");
    }
  }

  /** Compares dotted numeric versions ("1.10" > "1.9"; missing parts count as 0). */
  static int compareVersions(String a, String b) {
    String[] x = a.split("\\.");
    String[] y = b.split("\\.");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      long p = i < x.length ? parse(x[i]) : 0;
      long q = i < y.length ? parse(y[i]) : 0;
      if (p != q) {
        return Long.compare(p, q);
      }
    }
    return 0;
  }

  private static long parse(String part) {
    // Agent versions may carry a suffix ("1.4.0-SNAPSHOT"): compare the leading digits.
    int end = 0;
    while (end < part.length() && end < 9 && Character.isDigit(part.charAt(end))) {
      end++;
    }
    return end == 0 ? 0 : Long.parseLong(part.substring(0, end));
  }
}
