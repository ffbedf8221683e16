package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.NodeFacts;
import io.edgeslm.signing.PolicyException;
import io.edgeslm.signing.ReleaseKind;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.ReleasePolicy;
import io.edgeslm.signing.ReleaseTrack;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.TamperedArtifactException;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.UntrustedKeyException;
import io.edgeslm.signing.VerifiedBundle;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one place a bundle becomes trusted: OMS signature and file digests against the node's trust
 * store, then the signed release policy (model and channel this node follows, target, agent
 * version, expiry, version above the high-water mark). The same gate serves MQTT and USB.
 */
public final class BundleGate {

  /**
   * A bundle that passed: the verifier's result, its release, and the store record to keep.
   *
   * @param alreadyActive the bundle is byte for byte the model serving (same OMS root digest,
   *     signed by trusted keys): not a new attempt, so the release policy was not applied again
   *     (its own version would be refused as "not newer" than the mark it set)
   */
  public record Passed(
      VerifiedBundle bundle, ReleaseMetadata release, StoredModel model, boolean alreadyActive) {}

  private final TrustStore trust;
  private final NodeProfile profile;

  public BundleGate(TrustStore trust, NodeProfile profile) {
    this.trust = trust;
    this.profile = profile;
  }

  /** The trust store bundles are verified against (the release policy's binding rule uses it). */
  public TrustStore trust() {
    return trust;
  }

  /**
   * Verifies {@code dir} completely.
   *
   * @throws UpdateException with fault {@code ARTIFACT} and a reason code: {@code tampered}, {@code
   *     untrusted_key}, {@code malformed_bundle}, {@code unreadable_bundle}, or the policy rule in
   *     lower case ({@code rollback}, {@code expired}, {@code wrong_device_class}, …)
   */
  public Passed verify(Path dir, Map<ReleaseTrack, HighWaterMark> marks, Instant now)
      throws UpdateException {
    return verify(dir, marks, now, null);
  }

  /**
   * As {@link #verify(Path, Map, Instant)}; a bundle whose root digest is {@code activeDigest} (the
   * committed serving model's) passes on its signature and trust alone, with {@link
   * Passed#alreadyActive}.
   */
  public Passed verify(
      Path dir, Map<ReleaseTrack, HighWaterMark> marks, Instant now, String activeDigest)
      throws UpdateException {
    return verify(dir, marks, now, activeDigest, null);
  }

  /**
   * As {@link #verify(Path, Map, Instant, String)}; a bundle whose root digest is {@code
   * repairDigest} (a committed release whose stored copy failed its boot re-check) also passes on
   * its signature and trust alone, as the re-check would have, and is installed again: the same
   * bytes as the release that set the mark are not a rollback.
   */
  public Passed verify(
      Path dir,
      Map<ReleaseTrack, HighWaterMark> marks,
      Instant now,
      String activeDigest,
      String repairDigest)
      throws UpdateException {
    try {
      VerifiedBundle b = BundleVerifier.of(trust).verify(dir, installedOptions());
      boolean same = b.rootDigest().equals(activeDigest) && b.release().isPresent();
      boolean repair = b.rootDigest().equals(repairDigest) && b.release().isPresent();
      ReleaseMetadata r =
          same || repair
              ? b.release().get()
              : ReleasePolicy.standard().check(b, facts(b, marks, now));
      StoredModel m =
          ModelStore.describe(
              b.rootDigest(),
              r.model(),
              r.version(),
              r.channel(),
              r.modelFile(),
              r.evaluationFile().orElse(null),
              b.signerKeyIds(),
              now,
              r.kind() == ReleaseKind.ADAPTER
                  ? r.baseModelDigest().orElseThrow().substring("sha256:".length())
                  : null);
      return new Passed(b, r, m, same);
    } catch (PolicyException e) {
      throw policyRefusal(e);
    } catch (SigningException e) {
      throw verificationFailure(e);
    }
  }

  /**
   * The node's facts for the policy: those of a LoRA adapter when the bundle's signed release is
   * one ({@link NodeProfile#adapterFacts}).
   */
  private NodeFacts facts(VerifiedBundle b, Map<ReleaseTrack, HighWaterMark> marks, Instant now) {
    if (b.release().isPresent() && b.release().get().kind() == ReleaseKind.ADAPTER) {
      ReleaseMetadata r = b.release().get();
      return profile.adapterFacts(marks, now, r.model(), r.channel());
    }
    return profile.facts(marks, now);
  }

  /**
   * Verifies an installed model's directory again before it serves at boot: the signature over the
   * manifest, the signers against the trust store as it is now, and the SHA-256 of every file
   * against the manifest. The release policy is not applied again: the model passed it at its
   * install, and its own version would be refused as not newer than the mark it set.
   *
   * @throws UpdateException {@code tampered} when a file no longer matches (corrupted on disk) or
   *     the bundle is not the one installed under this digest, {@code untrusted_key} when no signer
   *     is trusted any more (the trust store was rotated while the node was off), or another
   *     verification code
   */
  public void recheck(Path dir, StoredModel model) throws UpdateException {
    VerifiedBundle b;
    try {
      b = BundleVerifier.of(trust).verify(dir, installedOptions());
    } catch (SigningException e) {
      throw verificationFailure(e);
    }
    if (!b.rootDigest().equals(model.digest())) {
      throw new UpdateException(
          UpdateException.Fault.ARTIFACT,
          ReasonCode.TAMPERED,
          "The bundle stored for "
              + model.describe()
              + " has the root digest sha256:"
              + b.rootDigest()
              + ", not the one it was installed under; it is not served.");
    }
  }

  /**
   * {@link #recheck(Path, StoredModel)} of a pointer entry: its base model, then the adapter
   * applied on top of it, if any. The first that no longer verifies is the error.
   */
  public void recheck(ModelStore store, StoredModel entry) throws UpdateException {
    recheck(store.directory(entry), entry.base());
    if (entry.adapter() != null) {
      recheck(store.directory(entry.adapter()), entry.adapter());
    }
  }

  private static BundleOptions installedOptions() {
    List<String> ignore = new ArrayList<>(BundleOptions.defaults().ignorePaths());
    ignore.add(ModelStore.MARKER);
    return BundleOptions.defaults().withIgnorePaths(ignore);
  }

  private static UpdateException verificationFailure(SigningException e) {
    ReasonCode code =
        switch (e) {
          case TamperedArtifactException t -> ReasonCode.TAMPERED;
          case UntrustedKeyException u -> ReasonCode.UNTRUSTED_KEY;
          case MalformedInputException m -> ReasonCode.MALFORMED_BUNDLE;
          case SigningIoException io -> ReasonCode.UNREADABLE_BUNDLE;
          default -> ReasonCode.VERIFICATION_FAILED;
        };
    return new UpdateException(UpdateException.Fault.ARTIFACT, code, e.getMessage(), e);
  }

  private static UpdateException policyRefusal(PolicyException e) {
    return new UpdateException(
        UpdateException.Fault.ARTIFACT, reasonCode(e.reason()), e.getMessage(), e);
  }

  /** The reported code of a release-policy rule; a new rule must be given a code here. */
  static ReasonCode reasonCode(PolicyException.Reason r) {
    return switch (r) {
      case NO_RELEASE_METADATA -> ReasonCode.NO_RELEASE_METADATA;
      case MISSING_RELEASE_FILE -> ReasonCode.MISSING_RELEASE_FILE;
      case WRONG_MODEL -> ReasonCode.WRONG_MODEL;
      case WRONG_CHANNEL -> ReasonCode.WRONG_CHANNEL;
      case WRONG_ARCHITECTURE -> ReasonCode.WRONG_ARCHITECTURE;
      case WRONG_DEVICE_CLASS -> ReasonCode.WRONG_DEVICE_CLASS;
      case INSUFFICIENT_RAM -> ReasonCode.INSUFFICIENT_RAM;
      case LABEL_MISMATCH -> ReasonCode.LABEL_MISMATCH;
      case AGENT_TOO_OLD -> ReasonCode.AGENT_TOO_OLD;
      case EXPIRED -> ReasonCode.EXPIRED;
      case ROLLBACK -> ReasonCode.ROLLBACK;
    };
  }
}
