package io.edgeslm.agent.internal.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgeslm.protocol.ModelRef;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A verified model in the store, as the pointer and the model's marker file record it.
 *
 * @param digest the bundle's OMS root digest (lowercase hex SHA-256): its directory name
 * @param name model name from the signed release
 * @param version release version
 * @param channel release channel
 * @param modelFile the GGUF file, relative to the model directory
 * @param evaluationFile the activation-check file, relative, or null
 * @param signerKeyIds the release keys that signed it (for the high-water mark)
 * @param installedAt when it was verified and installed
 * @param activationScore the score its activation check gave when it was committed, or null (no
 *     check, or not committed yet); kept in the pointer so that a restart reports it without
 *     running the check again (the marker file, written at install, never has one)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StoredModel(
    String digest,
    String name,
    long version,
    String channel,
    String modelFile,
    String evaluationFile,
    List<String> signerKeyIds,
    Instant installedAt,
    Double activationScore) {

  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

  public StoredModel {
    Objects.requireNonNull(digest, "digest");
    if (!HEX64.matcher(digest).matches()) {
      throw new IllegalArgumentException(
          "digest must be 64 lowercase hex characters: got '" + digest + "'.");
    }
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(modelFile, "modelFile");
    Objects.requireNonNull(installedAt, "installedAt");
    signerKeyIds = signerKeyIds == null ? List.of() : List.copyOf(signerKeyIds);
    if (activationScore != null && !(activationScore >= 0 && activationScore <= 1)) {
      throw new IllegalArgumentException(
          "activationScore must be in [0, 1] or absent: got " + activationScore + ".");
    }
  }

  /** This model with the activation score its check gave (null: none). */
  public StoredModel withActivationScore(Double score) {
    return new StoredModel(
        digest,
        name,
        version,
        channel,
        modelFile,
        evaluationFile,
        signerKeyIds,
        installedAt,
        score == null ? null : Math.max(0.0, Math.min(1.0, score)));
  }

  /** The wire form of this model's identity. */
  public ModelRef ref() {
    return new ModelRef(name, version, "sha256:" + digest, channel);
  }

  /** Short form for logs and messages. */
  public String describe() {
    return name + " v" + version + " (" + channel + ", sha256:" + digest.substring(0, 12) + "…)";
  }
}
