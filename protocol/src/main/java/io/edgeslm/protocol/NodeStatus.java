package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * Retained presence on {@code edge/v1/{site}/{node}/status}. The node registers {@code offline} as
 * its Last Will (retained, with a Will Delay Interval so a short network blip does not flap the
 * fleet view), then publishes {@code online} retained after each connect, and {@code offline}
 * itself on a clean shutdown.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param state online or offline
 * @param since when this state began; omitted in the will, whose payload is fixed at connect time
 * @param reason why, for people (e.g. {@code shutdown}, {@code connection lost}); optional, at most
 *     200 characters
 * @param activeModel the model serving when the node said {@code online} (republished when it
 *     changes); absent in the will, when offline and on a rules-only node
 * @param activeAdapter the LoRA adapter applied on top of {@code activeModel}, when one is
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeStatus(
    @JsonProperty(required = true) int schemaVersion,
    NodeState state,
    Instant since,
    String reason,
    ModelRef activeModel,
    ModelRef activeAdapter) {

  public NodeStatus {
    Checks.schemaVersion("NodeStatus", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.required("state", state);
    Checks.optionalText("reason", reason, 200);
    Checks.check(
        activeModel == null || state == NodeState.ONLINE,
        "activeModel is only sent with state 'online': got state "
            + Checks.quote(state)
            + " with a model. Leave activeModel out of offline states.");
    Checks.check(
        activeAdapter == null || activeModel != null,
        "activeAdapter is only sent with the base model it is applied to: got an adapter without"
            + " activeModel. Name the base model, or leave the adapter out.");
  }

  /** Without an adapter. */
  public NodeStatus(
      int schemaVersion, NodeState state, Instant since, String reason, ModelRef activeModel) {
    this(schemaVersion, state, since, reason, activeModel, null);
  }

  /** Without a model: the will, offline states, and senders that predate {@code activeModel}. */
  public NodeStatus(int schemaVersion, NodeState state, Instant since, String reason) {
    this(schemaVersion, state, since, reason, null, null);
  }

  /** Published retained after connect. */
  public static NodeStatus online(Instant since) {
    return online(since, null);
  }

  /** Published retained after connect and when the serving model changes; the model may be null. */
  public static NodeStatus online(Instant since, ModelRef activeModel) {
    return online(since, activeModel, null);
  }

  /** As {@link #online(Instant, ModelRef)}, with the adapter applied on top of the model. */
  public static NodeStatus online(Instant since, ModelRef activeModel, ModelRef activeAdapter) {
    return new NodeStatus(
        Protocol.SCHEMA_VERSION, NodeState.ONLINE, since, null, activeModel, activeAdapter);
  }

  /** The will payload: offline, reason {@code connection lost}, no time. */
  public static NodeStatus will() {
    return new NodeStatus(Protocol.SCHEMA_VERSION, NodeState.OFFLINE, null, "connection lost");
  }

  /**
   * {@link #will()} as it goes on the wire: the JSON {@link Json#write} makes of it, written out
   * (NodeRecordsTest holds the two equal). A node registers its will before the first connect, and
   * serialising one record through Jackson costs the JSON mapper's whole initialisation, about a
   * quarter of a second on a small gateway; with the fixed bytes the connect, and so the node's
   * readiness, does not wait for it.
   */
  public static byte[] willPayload() {
    return WILL_PAYLOAD.clone();
  }

  private static final byte[] WILL_PAYLOAD =
      ("{\"schemaVersion\":"
              + Protocol.SCHEMA_VERSION
              + ",\"state\":\"offline\",\"reason\":\"connection lost\"}")
          .getBytes(java.nio.charset.StandardCharsets.UTF_8);

  /** Published retained on a clean shutdown. */
  public static NodeStatus shutdown(Instant since) {
    return new NodeStatus(Protocol.SCHEMA_VERSION, NodeState.OFFLINE, since, "shutdown");
  }
}
