package io.edgeslm.signing;

import io.edgeslm.signing.internal.bundle.ResourceNames;
import io.edgeslm.signing.internal.release.ReleaseCodec;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The signed {@code release.json} of a bundle: what OMS does not say and an offline fleet needs to
 * refuse rollback, freeze and wrong-target attacks. It is a signed resource like any model file, so
 * its bytes are covered by {@code model.sig}.
 *
 * @param schemaVersion format version, 1
 * @param model model name, the unit of versioning (lowercase token)
 * @param version monotonically increasing per model and channel, 1 to 2^53-1
 * @param channel release channel (e.g. {@code stable}, {@code canary})
 * @param expires after this instant the release must not be activated (freeze defence)
 * @param target which nodes it is for
 * @param minAgentVersion oldest agent that may run it, dotted numbers (e.g. {@code 1.4.0})
 * @param modelFile the GGUF resource name
 * @param evaluationFile optional resource holding the activation check (format owned by the
 *     inference module; carried opaquely)
 * @param taskConfigJson task configuration as a JSON object text, opaque here ({@code {}} if none)
 * @param kind a whole model or a LoRA adapter ({@link ReleaseKind#MODEL} if null)
 * @param baseModelDigest for an adapter, the digest ({@code sha256:} and 64 lowercase hex digits)
 *     of the signed base model bundle it applies to; required for an adapter, refused for a model
 */
public record ReleaseMetadata(
    int schemaVersion,
    String model,
    long version,
    String channel,
    Instant expires,
    TargetSelector target,
    String minAgentVersion,
    String modelFile,
    Optional<String> evaluationFile,
    String taskConfigJson,
    ReleaseKind kind,
    Optional<String> baseModelDigest) {

  public static final int SCHEMA_VERSION = 1;

  /** JSON numbers are exact up to 2^53-1 in every parser an operator may use on this file. */
  public static final long MAX_VERSION = (1L << 53) - 1;

  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern DOTTED = Pattern.compile("[0-9]{1,9}(\\.[0-9]{1,9}){0,3}");
  private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

  public ReleaseMetadata {
    if (schemaVersion != SCHEMA_VERSION) {
      throw new IllegalArgumentException(
          "schemaVersion "
              + schemaVersion
              + " is not supported (this library reads "
              + SCHEMA_VERSION
              + ")");
    }
    requireMatch("model", model, NAME, "lowercase letters, digits, '.', '_', '-', up to 64");
    requireMatch("channel", channel, NAME, "lowercase letters, digits, '.', '_', '-', up to 64");
    if (version < 1 || version > MAX_VERSION) {
      throw new IllegalArgumentException(
          "version must be between 1 and " + MAX_VERSION + ", got " + version);
    }
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(target, "target");
    requireMatch("minAgentVersion", minAgentVersion, DOTTED, "dotted numbers such as 1.4.0");
    requireResource("modelFile", modelFile);
    evaluationFile = Objects.requireNonNullElse(evaluationFile, Optional.empty());
    evaluationFile.ifPresent(f -> requireResource("evaluationFile", f));
    taskConfigJson = ReleaseCodec.canonicalTaskConfig(taskConfigJson);
    kind = Objects.requireNonNullElse(kind, ReleaseKind.MODEL);
    baseModelDigest = Objects.requireNonNullElse(baseModelDigest, Optional.empty());
    if (kind == ReleaseKind.ADAPTER && baseModelDigest.isEmpty()) {
      throw new IllegalArgumentException(
          "kind 'adapter' requires baseModelDigest, the sha256: digest of the base model bundle"
              + " the adapter applies to (pass --base-model-digest to 'release init')");
    }
    if (kind == ReleaseKind.MODEL && baseModelDigest.isPresent()) {
      throw new IllegalArgumentException(
          "baseModelDigest '"
              + baseModelDigest.get()
              + "' is only allowed with kind 'adapter'; a model bundle has no base");
    }
    baseModelDigest.ifPresent(
        d -> requireMatch("baseModelDigest", d, DIGEST, "sha256: and 64 lowercase hex digits"));
  }

  /** A release of a whole model ({@link ReleaseKind#MODEL}, no base). */
  public ReleaseMetadata(
      int schemaVersion,
      String model,
      long version,
      String channel,
      Instant expires,
      TargetSelector target,
      String minAgentVersion,
      String modelFile,
      Optional<String> evaluationFile,
      String taskConfigJson) {
    this(
        schemaVersion,
        model,
        version,
        channel,
        expires,
        target,
        minAgentVersion,
        modelFile,
        evaluationFile,
        taskConfigJson,
        ReleaseKind.MODEL,
        Optional.empty());
  }

  /** This release as a LoRA adapter for the base model bundle with digest {@code baseDigest}. */
  public ReleaseMetadata asAdapterFor(String baseDigest) {
    return new ReleaseMetadata(
        schemaVersion,
        model,
        version,
        channel,
        expires,
        target,
        minAgentVersion,
        modelFile,
        evaluationFile,
        taskConfigJson,
        ReleaseKind.ADAPTER,
        Optional.of(baseDigest));
  }

  /**
   * Parses {@code release.json} bytes. Unknown fields are tolerated (forward compatibility);
   * missing or ill-typed known fields are not.
   *
   * @throws MalformedInputException naming the field, the rule and the value
   */
  public static ReleaseMetadata parse(byte[] json, String source) throws MalformedInputException {
    return ReleaseCodec.parse(json, source);
  }

  /** Pretty-printed JSON, as {@code release init} writes it. */
  public byte[] toJson() {
    return ReleaseCodec.write(this);
  }

  /** The versioning track this release belongs to. */
  public ReleaseTrack track() {
    return new ReleaseTrack(model, channel);
  }

  static void requireToken(String field, String value) {
    requireMatch(field, value, TOKEN, "letters, digits, '.', '_', '-', up to 64");
  }

  private static void requireMatch(String field, String value, Pattern p, String rule) {
    if (value == null || !p.matcher(value).matches()) {
      throw new IllegalArgumentException(field + " '" + value + "' must be " + rule);
    }
  }

  private static void requireResource(String field, String name) {
    Objects.requireNonNull(name, field);
    ResourceNames.violation(name, BundleLimits.DEFAULT_MAX_NAME_LENGTH)
        .ifPresent(
            v -> {
              throw new IllegalArgumentException(field + " '" + name + "': " + v);
            });
  }
}
