package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.PolicyException;
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
import java.util.Locale;
import java.util.Map;

/**
 * The one place a bundle becomes trusted: OMS signature and file digests against the node's trust
 * store, then the signed release policy (model and channel this node follows, target, agent
 * version, expiry, version above the high-water mark). The same gate serves MQTT and USB.
 */
public final class BundleGate {

  /** A bundle that passed: the verifier's result, its release, and the store record to keep. */
  public record Passed(VerifiedBundle bundle, ReleaseMetadata release, StoredModel model) {}

  private final TrustStore trust;
  private final NodeProfile profile;

  public BundleGate(TrustStore trust, NodeProfile profile) {
    this.trust = trust;
    this.profile = profile;
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
    try {
      List<String> ignore = new ArrayList<>(BundleOptions.defaults().ignorePaths());
      ignore.add(ModelStore.MARKER);
      VerifiedBundle b =
          BundleVerifier.of(trust).verify(dir, BundleOptions.defaults().withIgnorePaths(ignore));
      ReleaseMetadata r = ReleasePolicy.standard().check(b, profile.facts(marks, now));
      StoredModel m =
          ModelStore.describe(
              b.rootDigest(),
              r.model(),
              r.version(),
              r.channel(),
              r.modelFile(),
              r.evaluationFile().orElse(null),
              b.signerKeyIds(),
              now);
      return new Passed(b, r, m);
    } catch (PolicyException e) {
      throw policyRefusal(e);
    } catch (SigningException e) {
      String code =
          switch (e) {
            case TamperedArtifactException t -> "tampered";
            case UntrustedKeyException u -> "untrusted_key";
            case MalformedInputException m -> "malformed_bundle";
            case SigningIoException io -> "unreadable_bundle";
            default -> "verification_failed";
          };
      throw new UpdateException(UpdateException.Fault.ARTIFACT, code, e.getMessage(), e);
    }
  }

  /**
   * What the release policy refuses before a download, from the assignment's announced model alone:
   * a model or channel this node does not follow, or a version not above a binding high-water mark
   * (a mark whose signers were since revoked does not bind).
   *
   * @throws UpdateException fault {@code ARTIFACT}: {@code wrong_model}, {@code wrong_channel} or
   *     {@code rollback}
   */
  public void precheck(ModelRef model, Map<ReleaseTrack, HighWaterMark> marks, Instant now)
      throws UpdateException {
    try {
      ReleasePolicy.standard()
          .precheck(
              new ReleaseTrack(model.name(), model.channel()),
              model.version(),
              profile.facts(marks, now),
              trust);
    } catch (PolicyException e) {
      throw policyRefusal(e);
    }
  }

  /**
   * The mark to persist once {@code p} is committed, by the release policy's rule: it replaces a
   * lower mark and any mark that no longer binds, and never lowers a binding one.
   */
  public HighWaterMark nextMark(Map<ReleaseTrack, HighWaterMark> marks, Passed p) {
    ReleasePolicy policy = ReleasePolicy.standard();
    return policy.nextMark(
        marks.get(p.release().track()), policy.markAfterActivation(p.bundle(), p.release()), trust);
  }

  private static UpdateException policyRefusal(PolicyException e) {
    return new UpdateException(
        UpdateException.Fault.ARTIFACT,
        e.reason().name().toLowerCase(Locale.ROOT),
        e.getMessage(),
        e);
  }
}
