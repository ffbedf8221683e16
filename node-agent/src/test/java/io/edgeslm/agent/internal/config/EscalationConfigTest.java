package io.edgeslm.agent.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.escalation.EscalationSettings;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code edgeslm.agent.escalation.*} keys: off by default, every fault named at start. */
class EscalationConfigTest {

  private static final String FIX =
      " Fix it in application.properties, the file named by EDGESLM_CONFIG, or the environment"
          + " variable ";

  private static ValidatedConfig validate(Map<String, String> escalation) throws Exception {
    Map<String, String> all = new HashMap<>();
    all.put("edgeslm.agent.node-id", "gw-1");
    all.put("edgeslm.agent.site", "plant-7");
    escalation.forEach((k, v) -> all.put("edgeslm.agent.escalation." + k, v));
    return ConfigValidator.validate(ConfigValidatorTest.config(all), "h");
  }

  private static void refused(Map<String, String> escalation, String message) {
    assertThatThrownBy(() -> validate(escalation))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageContaining(message);
  }

  @Test
  void default_isOff_withNoTarget() throws Exception {
    EscalationSettings s = validate(Map.of()).escalation();
    assertThat(s.policy().enabled()).isFalse();
    assertThat(s.target()).isEmpty();
    assertThat(s.policy().sensorAllowList()).isEmpty();
  }

  @Test
  void off_withATargetConfigured_staysOff() throws Exception {
    EscalationSettings s =
        validate(
                Map.of(
                    "target", "endpoint",
                    "endpoint.url", "http://gpu.plant:8080",
                    "endpoint.model", "big",
                    "sensors", "*"))
            .escalation();
    assertThat(s.policy().enabled()).isFalse();
    assertThat(s.target()).isEmpty();
  }

  @Test
  void peerNode_onTheNodesSite_byDefault() throws Exception {
    EscalationSettings s =
        validate(
                Map.of(
                    "enabled", "true",
                    "target", "node:gw-big",
                    "tasks", "sensor-values,ranges",
                    "sensors", "press3.*,line1.*"))
            .escalation();
    assertThat(s.target()).contains(new EscalationSettings.Node("plant-7", "gw-big"));
    assertThat(s.policy().tasks()).containsExactlyInAnyOrder("sensor-values", "ranges");
    assertThat(s.policy().allowsSensor("press3.oil_temp")).isTrue();
    assertThat(s.policy().allowsSensor("recipe.mix")).isFalse();
  }

  @Test
  void endpoint_namedAfterItsHost_andTheKeyIsNeverPrinted() throws Exception {
    EscalationSettings s =
        validate(
                Map.of(
                    "enabled", "true",
                    "target", "endpoint",
                    "endpoint.url", "http://gpu.plant:8080",
                    "endpoint.model", "qwen3-32b",
                    "endpoint.api-key", "s3cret",
                    "min-token-probability", "0.4"))
            .escalation();
    EscalationSettings.Endpoint e = (EscalationSettings.Endpoint) s.target().orElseThrow();
    assertThat(e.label()).isEqualTo("endpoint:gpu.plant");
    assertThat(e.apiKey()).contains("s3cret");
    assertThat(e.toString()).doesNotContain("s3cret");
  }

  @Test
  void enabled_withoutTarget_isRefusedNamingTheKeyAndHowToStayLocal() {
    assertThatThrownBy(() -> validate(Map.of("enabled", "true")))
        .isInstanceOf(AgentConfigException.class)
        .hasMessage(
            "Invalid configuration edgeslm.agent.escalation.target='': expected a target when"
                + " escalation is enabled: node:<id> or endpoint. Set"
                + " edgeslm.agent.escalation.enabled=false to keep every question on the node."
                + FIX
                + "EDGESLM_AGENT_ESCALATION_TARGET.");
  }

  @Test
  void unknownTarget_isRefused() {
    refused(
        Map.of("enabled", "true", "target", "cloud"),
        "edgeslm.agent.escalation.target='cloud': expected node:<id>");
  }

  @Test
  void itself_asTarget_isRefused() {
    refused(
        Map.of("enabled", "true", "target", "node:gw-1"),
        "expected another node than this one (node-id is gw-1)");
  }

  @Test
  void endpoint_withCredentialsInTheUrl_isRefused() {
    refused(
        Map.of(
            "enabled", "true",
            "target", "endpoint",
            "endpoint.url", "http://user:pw@gpu.plant:8080",
            "endpoint.model", "m"),
        "edgeslm.agent.escalation.endpoint.url='http://user:pw@gpu.plant:8080': expected the"
            + " endpoint's root URL");
  }

  @Test
  void endpoint_withoutModel_isRefused() {
    refused(
        Map.of("enabled", "true", "target", "endpoint", "endpoint.url", "http://gpu:8080"),
        "edgeslm.agent.escalation.endpoint.model='': expected the model id");
  }

  @Test
  void unknownTask_isRefusedListingTheKnownOnes() {
    refused(
        Map.of("enabled", "true", "target", "node:b", "tasks", "qa"),
        "edgeslm.agent.escalation.tasks='qa': expected a comma-separated list of sensor-values,"
            + " ranges, other");
  }

  @Test
  void probabilityAboveOne_isRefused() {
    refused(
        Map.of("enabled", "true", "target", "node:b", "min-token-probability", "1.5"),
        "edgeslm.agent.escalation.min-token-probability='1.5': expected a probability");
  }

  @Test
  void enabled_withNoTrigger_isRefused_nothingWouldEverBeEscalated() {
    refused(
        Map.of("enabled", "true", "target", "node:b", "on-invalid-answer", "false"),
        "nothing would ever be escalated");
  }

  @Test
  void unboundedConcurrency_andTimeout_areRefused() {
    refused(
        Map.of("enabled", "true", "target", "node:b", "max-concurrent", "1000"),
        "edgeslm.agent.escalation.max-concurrent='1000': expected between 1 and 64");
    refused(
        Map.of("enabled", "true", "target", "node:b", "timeout", "1h"),
        "edgeslm.agent.escalation.timeout='PT1H': expected a duration between");
  }
}
