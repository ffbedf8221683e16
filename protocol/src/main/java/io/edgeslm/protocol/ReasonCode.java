package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Why an update ended as it did: the {@code reasonCode} of an {@link UpdateResult}, the code at the
 * head of an update journal entry's detail and the {@code reasonCode} of a bundle in the USB result
 * file. The same failure carries the same code on every path. The wire spelling is {@link #code()};
 * docs/asyncapi.yaml lists the same set.
 *
 * <p>A reader keeps a code it does not know (a newer node may send one) and shows the {@code
 * reason} text beside it, so the wire field stays a string.
 */
public enum ReasonCode {
  // The release policy refused a verified bundle (model-signing's PolicyException.Reason).
  /** The bundle carries no signed release.json. */
  NO_RELEASE_METADATA("no_release_metadata"),
  /** The release names a model or evaluation file that is not a signed resource. */
  MISSING_RELEASE_FILE("missing_release_file"),
  /** The node is not assigned this model. */
  WRONG_MODEL("wrong_model"),
  /** The node follows another channel for this model. */
  WRONG_CHANNEL("wrong_channel"),
  /** The node's CPU architecture is not targeted. */
  WRONG_ARCHITECTURE("wrong_architecture"),
  /** The node's device class is not targeted. */
  WRONG_DEVICE_CLASS("wrong_device_class"),
  /** The node has less RAM than the release needs. */
  INSUFFICIENT_RAM("insufficient_ram"),
  /** A target label is missing on the node or has another value. */
  LABEL_MISMATCH("label_mismatch"),
  /** The agent is older than the release's minimum agent version. */
  AGENT_TOO_OLD("agent_too_old"),
  /** The release metadata has expired (freeze attack). */
  EXPIRED("expired"),
  /** The version is at or below the binding high-water mark (rollback attack). */
  ROLLBACK("rollback"),
  /**
   * A LoRA adapter whose signed base model digest is not the base model the node serves (an adapter
   * only works on the base it was trained for).
   */
  WRONG_BASE_MODEL("wrong_base_model"),

  // The signature check refused the bundle.
  /** A signed file's digest differs from the signed one, or a file was added. */
  TAMPERED("tampered"),
  /** No trusted, unrevoked key signed the bundle. */
  UNTRUSTED_KEY("untrusted_key"),
  /** The signature or manifest cannot be parsed. */
  MALFORMED_BUNDLE("malformed_bundle"),
  /** The bundle's files cannot be read. */
  UNREADABLE_BUNDLE("unreadable_bundle"),
  /** The signature check failed for another reason; the text says which. */
  VERIFICATION_FAILED("verification_failed"),
  /** A USB bundle has no {@code model.sig}. */
  UNSIGNED_BUNDLE("unsigned_bundle"),

  // The assignment or the transfer.
  /** The assignment cannot be read. */
  MALFORMED_ASSIGNMENT("malformed_assignment"),
  /** Another update is running. */
  BUSY("busy"),
  /** The downloaded bundle is not the one the assignment named. */
  ASSIGNMENT_MISMATCH("assignment_mismatch"),
  /** The assigned chunk size does not fit the broker's maximum packet size. */
  CHUNK_TOO_LARGE("chunk_too_large"),
  /** The controller does not know the bundle or a chunk. */
  NOT_FOUND("not_found"),
  /** No chunk arrived for too long. */
  TRANSFER_STALLED("transfer_stalled"),
  /** Too many chunks failed their digest (endless or wrong data). */
  TOO_MANY_CORRUPT_CHUNKS("too_many_corrupt_chunks"),
  /** The update was cancelled by a command. */
  CANCELLED("cancelled"),

  // The USB stick.
  /** The stick's bundle holds a symbolic or hard link. */
  LINK_REFUSED("link_refused"),
  /** The stick's bundle holds a device, pipe or socket. */
  SPECIAL_FILE_REFUSED("special_file_refused"),
  /** The stick's bundle holds too many entries. */
  TOO_MANY_FILES("too_many_files"),
  /** The stick's bundle is nested too deep. */
  TOO_DEEP("too_deep"),
  /** The stick's bundle holds an unsafe file name. */
  BAD_NAME("bad_name"),
  /** The stick's bundle is larger than the node accepts. */
  TOO_LARGE("too_large"),
  /** The stick was pulled while the bundle was being copied. */
  COPY_INTERRUPTED("copy_interrupted"),
  /** Copying from the stick failed. */
  COPY_FAILED("copy_failed"),
  /** Handling the bundle took longer than the side-loader allows. */
  TIMEOUT("timeout"),

  // This node.
  /** Not enough disk space. */
  DISK_FULL("disk_full"),
  /** The model store could not be written. */
  STORAGE_FAILED("storage_failed"),
  /** The agent stopped during the update. */
  INTERRUPTED("interrupted"),
  /** The agent is shutting down. */
  SHUTTING_DOWN("shutting_down"),
  /** A defect in the agent; the text says which. */
  INTERNAL("internal"),

  // The new model, or a rollback.
  /** The new model did not start. */
  MODEL_LOAD_FAILED("model_load_failed"),
  /** The new model scored below the bundle's minimum in its activation check. */
  ACTIVATION_CHECK_FAILED("activation_check_failed"),
  /** The new model failed its soak (restarts, errors or slowness). */
  SOAK_FAILED("soak_failed"),
  /** The agent restarted while the new model was on trial. */
  RESTARTED_DURING_TRIAL("restarted_during_trial"),
  /** An operator ordered a rollback. */
  ROLLBACK_ORDERED("rollback_ordered"),
  /** A rollback is already running. */
  ROLLBACK_IN_PROGRESS("rollback_in_progress"),
  /** There is no previous model to roll back to. */
  NO_PREVIOUS_MODEL("no_previous_model");

  private final String code;

  ReasonCode(String code) {
    this.code = code;
  }

  /** The wire spelling. */
  @JsonValue
  public String code() {
    return code;
  }

  @Override
  public String toString() {
    return code;
  }
}
