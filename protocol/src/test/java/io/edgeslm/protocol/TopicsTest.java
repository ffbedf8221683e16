package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

  @Test
  void node_buildsEveryChannelTopic() {
    NodeTopics t = Topics.node("plant-7", "gw-0042");

    assertThat(t.ask()).isEqualTo("edge/v1/plant-7/gw-0042/ask");
    assertThat(t.report()).isEqualTo("edge/v1/plant-7/gw-0042/report");
    assertThat(t.status()).isEqualTo("edge/v1/plant-7/gw-0042/status");
    assertThat(t.birth()).isEqualTo("edge/v1/plant-7/gw-0042/birth");
    assertThat(t.health()).isEqualTo("edge/v1/plant-7/gw-0042/health");
    assertThat(t.journal()).isEqualTo("edge/v1/plant-7/gw-0042/journal");
    assertThat(t.journalAck()).isEqualTo("edge/v1/plant-7/gw-0042/journal/ack");
    assertThat(t.updateAssignment()).isEqualTo("edge/v1/plant-7/gw-0042/update/assignment");
    assertThat(t.updateRequest()).isEqualTo("edge/v1/plant-7/gw-0042/update/request");
    assertThat(t.updateChunk()).isEqualTo("edge/v1/plant-7/gw-0042/update/chunk");
    assertThat(t.updateProgress()).isEqualTo("edge/v1/plant-7/gw-0042/update/progress");
    assertThat(t.updateResult()).isEqualTo("edge/v1/plant-7/gw-0042/update/result");
    assertThat(t.updateCommand()).isEqualTo("edge/v1/plant-7/gw-0042/update/command");
    assertThat(t.allFilter()).isEqualTo("edge/v1/plant-7/gw-0042/#");
  }

  @ParameterizedTest
  @EnumSource(Channel.class)
  void parse_ofBuiltTopic_givesBackSiteNodeAndChannel(Channel channel) throws Exception {
    String topic = Topics.node("s.1", "n_2").topic(channel);

    Topics.ParsedTopic parsed = Topics.parse(topic);

    assertThat(parsed).isEqualTo(new Topics.ParsedTopic("s.1", "n_2", channel));
    assertThat(parsed.nodeTopics().topic(channel)).isEqualTo(topic);
  }

  @Test
  void sharedFilters_forControllerReplicas() {
    assertThat(Topics.sharedFilter(Channel.HEALTH)).isEqualTo("$share/fleet/edge/v1/+/+/health");
    assertThat(Topics.sharedFilter("fleet-b", Channel.UPDATE_REQUEST))
        .isEqualTo("$share/fleet-b/edge/v1/+/+/update/request");
    assertThat(Topics.filter(Channel.BIRTH)).isEqualTo("edge/v1/+/+/birth");
    assertThat(Topics.siteFilter("plant-7", Channel.STATUS)).isEqualTo("edge/v1/plant-7/+/status");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a/b", "a+", "#", "$sys", "with space", "-leading", "ü"})
  void node_invalidId_isRefusedWithRuleAndValue(String id) {
    assertThatThrownBy(() -> Topics.node("plant-7", id))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("node id must be 1 to 64 characters of A-Z a-z 0-9 _ . -")
        .hasMessageContaining("got '" + id + "'");
  }

  @Test
  void node_idOf65Characters_isRefused_64IsAccepted() {
    assertThat(Topics.node("s", "n".repeat(64)).node()).hasSize(64);
    assertThatThrownBy(() -> Topics.node("s", "n".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void node_nullSite_isRefused() {
    assertThatThrownBy(() -> Topics.node(null, "gw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "site id must be 1 to 64 characters of A-Z a-z 0-9 _ . - starting with a letter or"
                + " digit (no '/', '+', '#', '$' or spaces): got null. Configure a site id such as"
                + " 'plant-7' or 'gw-0042'.");
  }

  @Test
  void parse_unknownChannel_namesTheKnownOnes() {
    assertThatThrownBy(() -> Topics.parse("edge/v1/plant-7/gw-1/telemetry"))
        .isInstanceOf(InvalidTopicException.class)
        .hasMessageStartingWith(
            "Unknown channel 'telemetry' in topic 'edge/v1/plant-7/gw-1/telemetry'. Known"
                + " channels: ask, report,");
  }

  @Test
  void parse_wildcardInNodeLevel_isRefused() {
    assertThatThrownBy(() -> Topics.parse("edge/v1/plant-7/+/health"))
        .isInstanceOf(InvalidTopicException.class)
        .hasMessageContaining("node id must be")
        .hasMessageContaining("got '+'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"edge/v2/a/b/ask", "edge/v1/a/ask", "edge/v1/a", "plant/edge/v1/a/b/ask"})
  void parse_wrongShape_isRefused(String topic) {
    assertThatThrownBy(() -> Topics.parse(topic)).isInstanceOf(InvalidTopicException.class);
  }
}
