package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeRecordsTest {

  private static final Instant T = Instant.parse("2026-11-21T08:00:00Z");
  private static final ModelRef MODEL = ModelRef.of("m", 1, "sha256:" + "c".repeat(64));

  private static NodeHealth health(boolean ready, String reason, Source source, ModelRef model) {
    return new NodeHealth(
        1, T, 30, ready, reason, source, model, null, null, 0, 0, 0, 1, 2, 0, null, null);
  }

  @Test
  void will_isOfflineWithoutTime() {
    assertThat(Json.writeString(NodeStatus.will()))
        .isEqualTo("{\"schemaVersion\":1,\"state\":\"offline\",\"reason\":\"connection lost\"}");
  }

  @Test
  void willPayload_isTheWillAsJsonWritesIt() throws Exception {
    assertThat(NodeStatus.willPayload()).isEqualTo(Json.write(NodeStatus.will()));
    assertThat(Json.read(NodeStatus.willPayload(), NodeStatus.class)).isEqualTo(NodeStatus.will());
  }

  @Test
  void health_readyWithReason_isRefused() {
    assertThatThrownBy(() -> health(true, "warming up", Source.RULES, null))
        .hasMessage(
            "notReadyReason must be absent when ready is true: got 'warming up'. Drop the reason"
                + " or report ready=false.");
  }

  @Test
  void health_rulesWithModel_isRefused() {
    assertThatThrownBy(() -> health(true, null, Source.RULES, MODEL))
        .hasMessageStartingWith("model must be present exactly when source is 'model'");
  }

  @Test
  void health_activationScoreAboveOne_isRefused() {
    assertThatThrownBy(
            () ->
                new NodeHealth(
                    1,
                    T,
                    30,
                    true,
                    null,
                    Source.MODEL,
                    MODEL,
                    1.0,
                    5L,
                    0,
                    0,
                    0,
                    1,
                    2,
                    0,
                    null,
                    1.5))
        .hasMessage(
            "activationScore must be between 0.0 and 1.0: got 1.5. Use a value in that range.");
  }

  private static final ModelRef ADAPTER =
      new ModelRef("plant-lora", 3, "sha256:" + "d".repeat(64), "stable");

  @Test
  void health_namesTheAdapterBesideTheBase_andOlderReadersIgnoreIt() throws Exception {
    NodeHealth h =
        new NodeHealth(
            1,
            T,
            30,
            true,
            null,
            Source.MODEL,
            MODEL,
            null,
            null,
            0,
            0,
            0,
            1,
            2,
            0,
            null,
            null,
            ADAPTER);
    String json = Json.writeString(h);
    assertThat(json).contains("\"adapter\":{\"name\":\"plant-lora\",\"version\":3");
    assertThat(Json.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), NodeHealth.class))
        .isEqualTo(h);
    // Without an adapter nothing changes on the wire.
    assertThat(Json.writeString(health(true, null, Source.MODEL, MODEL))).doesNotContain("adapter");
  }

  @Test
  void health_adapterWithoutABaseModel_isRefused() {
    assertThatThrownBy(
            () ->
                new NodeHealth(
                    1,
                    T,
                    30,
                    true,
                    null,
                    Source.RULES,
                    null,
                    null,
                    null,
                    0,
                    0,
                    0,
                    1,
                    2,
                    0,
                    null,
                    null,
                    ADAPTER))
        .hasMessage(
            "adapter is only sent with the base model it is applied to: got an adapter without a"
                + " model. Name the base model, or leave the adapter out.");
  }

  @Test
  void status_namesTheActiveAdapter_onlyWithItsBase() {
    assertThat(Json.writeString(NodeStatus.online(T, MODEL, ADAPTER)))
        .contains("\"activeAdapter\":{\"name\":\"plant-lora\"");
    assertThatThrownBy(() -> NodeStatus.online(T, null, ADAPTER))
        .hasMessageStartingWith("activeAdapter is only sent with the base model");
  }

  @Test
  void health_nanTokensPerSecond_isRefused() {
    assertThatThrownBy(
            () ->
                new NodeHealth(
                    1,
                    T,
                    30,
                    true,
                    null,
                    Source.MODEL,
                    MODEL,
                    Double.NaN,
                    5L,
                    0,
                    0,
                    0,
                    1,
                    2,
                    0,
                    null,
                    null))
        .hasMessage("tokensPerSecond must be a finite number: got NaN. Send a real measurement.");
  }

  @Test
  void birth_labelsAreCopiedSortedAndBounded() {
    Map<String, String> labels = new HashMap<>(Map.of("ring", "canary", "line", "3"));
    NodeBirth b = new NodeBirth(1, "0.1.0", "amd64", "gw-8g", 8L << 30, labels, null, null, T, T);
    labels.put("extra", "x");

    assertThat(b.labels()).containsExactly(Map.entry("line", "3"), Map.entry("ring", "canary"));

    Map<String, String> tooMany = new HashMap<>();
    for (int i = 0; i < 33; i++) {
      tooMany.put("k" + i, "v");
    }
    assertThatThrownBy(() -> new NodeBirth(1, "0.1.0", "amd64", "gw", 1, tooMany, null, null, T, T))
        .hasMessage("labels must have at most 32 entries: got 33. Drop some labels.");
  }

  @Test
  void answer_listIsCopied_andNullEntryIsRefused() {
    List<SensorCitation> cited = new ArrayList<>(List.of(new SensorCitation("s", 1, null, 0)));
    Answer a =
        new Answer(1, null, "ok", cited, Source.RULES, null, new AnswerTimings(0, null, 1, 0), T);
    cited.clear();

    assertThat(a.sensors()).hasSize(1);
    List<SensorCitation> withNull = new ArrayList<>();
    withNull.add(null);
    assertThatThrownBy(
            () ->
                new Answer(
                    1,
                    null,
                    "ok",
                    withNull,
                    Source.RULES,
                    null,
                    new AnswerTimings(0, null, 1, 0),
                    T))
        .hasMessage("sensors[0] is null. Remove the empty entry from sensors.");
  }

  @Test
  void modelRef_badDigest_isRefused() {
    assertThatThrownBy(() -> ModelRef.of("m", 1, "md5:abc"))
        .hasMessage(
            "model.digest must be 'sha256:' followed by 64 lowercase hex digits: got 'md5:abc'."
                + " Copy the digest from the bundle's signature.");
  }

  @Test
  void modelRef_versionZero_isRefused() {
    assertThatThrownBy(() -> ModelRef.of("m", 0, "sha256:" + "c".repeat(64)))
        .hasMessageStartingWith("model.version must be between 1 and");
  }

  @Test
  void record_controlCharacterInText_isRefused() {
    assertThatThrownBy(() -> Question.of("hello\u0000world"))
        .hasMessage(
            "question must not contain control characters: found U+0000 at index 5 in"
                + " 'hello\\u0000world'. Remove it.");
  }

  @Test
  void status_online_namesTheServingModel_andRoundTrips() throws Exception {
    NodeStatus s = NodeStatus.online(Instant.parse("2026-11-21T07:00:00Z"), MODEL);

    assertThat(Json.read(Json.write(s), NodeStatus.class)).isEqualTo(s);
    assertThat(Json.read(Json.write(NodeStatus.will()), NodeStatus.class).activeModel()).isNull();
  }

  @Test
  void status_offlineWithAModel_isRefused() {
    assertThatThrownBy(() -> new NodeStatus(1, NodeState.OFFLINE, null, "shutdown", MODEL))
        .hasMessage(
            "activeModel is only sent with state 'online': got state 'OFFLINE' with a model."
                + " Leave activeModel out of offline states.");
  }

  @Test
  void record_schemaVersionZero_isRefused() {
    assertThatThrownBy(() -> new NodeStatus(0, NodeState.ONLINE, null, null))
        .hasMessage(
            "NodeStatus.schemaVersion must be between 1 and 1: got 0. Set schemaVersion to 1.");
  }
}
