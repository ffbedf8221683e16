package io.edgeslm.agent.internal.config;

import static io.edgeslm.agent.internal.config.ConfigValidatorTest.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlantIngestConfigTest {

  @Test
  void defaults_noSparkplugNoUns() throws Exception {
    PlantIngestConfig p = PlantIngestConfig.validate(config(Map.of()), 0);
    assertThat(p.sparkplug()).isEmpty();
    assertThat(p.unsRoutes()).isEmpty();
    assertThat(p.maxSensors()).isEqualTo(1024);
  }

  @Test
  void sparkplugGroups_subscribeOneFilterEach() throws Exception {
    PlantIngestConfig p =
        PlantIngestConfig.validate(
            config(
                Map.of(
                    "edgeslm.agent.sparkplug.groups", "plant7,plant8",
                    "edgeslm.agent.sparkplug.rebirth-interval", "10s")),
            0);
    assertThat(p.sparkplug().orElseThrow().filters())
        .containsExactly("spBv1.0/plant7/#", "spBv1.0/plant8/#");
    assertThat(p.sparkplug().orElseThrow().rebirthInterval()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void sparkplugGroupWithASlash_isRefusedNamingKeyAndValue() {
    assertThatThrownBy(
            () ->
                PlantIngestConfig.validate(
                    config(Map.of("edgeslm.agent.sparkplug.groups", "plant/7")), 0))
        .isInstanceOf(AgentConfigException.class)
        .hasMessage(
            "Invalid configuration edgeslm.agent.sparkplug.groups='plant/7': expected Sparkplug"
                + " Group IDs: 1-64 characters each, no '/', '+', '#', spaces or leading '$'"
                + " (comma-separated). Fix it in application.properties, the file named by"
                + " EDGESLM_CONFIG, or the environment variable EDGESLM_AGENT_SPARKPLUG_GROUPS.");
  }

  @Test
  void unsTemplateNamingAnUnknownLevel_isRefusedNamingThatKey() {
    assertThatThrownBy(
            () ->
                PlantIngestConfig.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.uns.patterns.line.topic", "plant/+site/+metric",
                            "edgeslm.agent.uns.patterns.line.alias", "{machine} {metric}")),
                    0))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.uns.patterns.\"line\".alias='{machine}"
                + " {metric}': expected placeholders the pattern names ({site}, {metric},"
                + " {topic}); {machine} is not one.");
  }

  @Test
  void unsRangeWithOnlyOneEnd_isRefused() {
    assertThatThrownBy(
            () ->
                PlantIngestConfig.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.uns.patterns.oil.topic", "plant/oil",
                            "edgeslm.agent.uns.patterns.oil.normal-min", "40")),
                    0))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.uns.patterns.\"oil\".normal-max='(none)':"
                + " expected normal-min and normal-max set together, or neither.");
  }
}
