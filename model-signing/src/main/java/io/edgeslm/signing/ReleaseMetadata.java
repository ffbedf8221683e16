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
    String taskConfigJson) {

  public static final int SCHEMA_VERSION = 1;

  /** JSON numbers are exact up to 2^53-1 in every parser an operator may use on this file. */
  public static final long MAX_VERSION = (1L << 53) - 1;

  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern DOTTED = Pattern.compile("[0-9]{1,9}(\\.[0-9]{1,9}){0,3}");

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
