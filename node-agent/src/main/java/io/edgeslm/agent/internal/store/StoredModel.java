package io.edgeslm.agent.internal.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
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
 * @param baseDigest for a LoRA adapter bundle, the OMS root digest (lowercase hex) of the base
 *     model bundle its signed release names; null for a model bundle
 * @param adapter in the pointer, the adapter applied on top of this base model when it serves (an
 *     adapter record, {@code baseDigest} equal to this model's digest); null when the base serves
 *     alone. A pointer entry is what serves: a base model, alone or with one adapter.
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
    Double activationScore,
    String baseDigest,
    StoredModel adapter) {

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
    if (baseDigest != null && !HEX64.matcher(baseDigest).matches()) {
      throw new IllegalArgumentException(
          "baseDigest must be 64 lowercase hex characters: got '" + baseDigest + "'.");
    }
    if (adapter != null && (baseDigest != null || !digest.equals(adapter.baseDigest()))) {
      throw new IllegalArgumentException(
          "an adapter applies on top of the base model it names: "
              + adapter.describe()
              + " is for base "
              + adapter.baseDigest()
              + ", not "
              + digest
              + ".");
    }
  }

  /** A model record without adapter fields (a model bundle serving alone). */
  public StoredModel(
      String digest,
      String name,
      long version,
      String channel,
      String modelFile,
      String evaluationFile,
      List<String> signerKeyIds,
      Instant installedAt,
      Double activationScore) {
    this(
        digest,
        name,
        version,
        channel,
        modelFile,
        evaluationFile,
        signerKeyIds,
        installedAt,
        activationScore,
        null,
        null);
  }

  /** Whether this record is a LoRA adapter bundle (it names its base). */
  @JsonIgnore
  public boolean isAdapter() {
    return baseDigest != null;
  }

  /** This base model with {@code a} applied on top (null: the base alone), not yet scored. */
  public StoredModel withAdapter(StoredModel a) {
    return new StoredModel(
        digest,
        name,
        version,
        channel,
        modelFile,
        evaluationFile,
        signerKeyIds,
        installedAt,
        activationScore,
        baseDigest,
        a);
  }

  /** The base model of this entry, without its adapter. */
  public StoredModel base() {
    return adapter == null ? this : withAdapter(null);
  }

  /** The digest of what serves: the adapter's when one is applied, else this model's. */
  public String servingDigest() {
    return adapter == null ? digest : adapter.digest();
  }

  /** Whether this entry serves the same bytes as {@code other}: same base, same adapter or none. */
  public boolean sameServing(StoredModel other) {
    return other != null
        && digest.equals(other.digest())
        && Objects.equals(
            adapter == null ? null : adapter.digest(),
            other.adapter() == null ? null : other.adapter().digest());
  }

  /** The adapter's wire identity, or null when the base serves alone. */
  public ModelRef adapterRef() {
    return adapter == null ? null : adapter.ref();
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
        score == null ? null : Math.max(0.0, Math.min(1.0, score)),
        baseDigest,
        adapter);
  }

  /** The wire form of this model's identity. */
  public ModelRef ref() {
    return new ModelRef(name, version, "sha256:" + digest, channel);
  }

  /** Short form for logs and messages. */
  public String describe() {
    String self =
        (isAdapter() ? "adapter " : "")
            + name
            + " v"
            + version
            + " ("
            + channel
            + ", sha256:"
            + digest.substring(0, 12)
            + "…)";
    return adapter == null ? self : self + " + " + adapter.describe();
  }
}
