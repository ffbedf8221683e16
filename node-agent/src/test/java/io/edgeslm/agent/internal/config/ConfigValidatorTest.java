package io.edgeslm.agent.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigValidatorTest {

  /** An executable named llama-server in {@code dir}: enough for the engine choice to find it. */
  private static java.nio.file.Path fakeLlamaServer(java.nio.file.Path dir)
      throws java.io.IOException {
    java.nio.file.Path bin = dir.resolve("llama-server");
    java.nio.file.Files.writeString(bin, "#!/bin/sh\n");
    bin.toFile().setExecutable(true);
    return bin;
  }

  static AgentConfig config(Map<String, String> values) {
    Map<String, String> all = new HashMap<>();
    all.put("edgeslm.agent.journal.dir", "/tmp/edgeslm-config-test");
    all.putAll(values);
    SmallRyeConfig c =
        new SmallRyeConfigBuilder()
            .withMapping(AgentConfig.class)
            // Quarkus's converter reads "30s" as the running agent does.
            .withConverter(
                java.time.Duration.class,
                200,
                new io.quarkus.runtime.configuration.DurationConverter())
            .withSources(new PropertiesConfigSource(all, "test", 500))
            .build();
    return c.getConfigMapping(AgentConfig.class);
  }

  @Test
  void defaults_noBroker_embeddedBrokerWithDemoSensorsAndRules() throws Exception {
    ValidatedConfig v = ConfigValidator.validate(config(Map.of()), "gw-01.plant");
    assertThat(v.nodeId()).isEqualTo("gw-01.plant");
    assertThat(v.embeddedBroker()).isTrue();
    assertThat(v.simulator()).isTrue();
    assertThat(v.sensors())
        .extracting(s -> s.id())
        .containsExactly("conveyor2.motor_current", "press3.hydraulic_pressure", "press3.oil_temp");
    assertThat(v.modelPath()).isEmpty();
  }

  @Test
  void externalBrokerAndSensors_noSimulator() throws Exception {
    ValidatedConfig v =
        ConfigValidator.validate(
            config(
                Map.of(
                    "edgeslm.agent.broker.url", "tcp://broker.plant:1883",
                    "edgeslm.agent.node-id", "gw-7",
                    "edgeslm.agent.sensors.oil.topic", "plant/line1/press3/oil",
                    "edgeslm.agent.sensors.oil.unit", "°C",
                    "edgeslm.agent.sensors.oil.alias", "Press 3 oil temperature",
                    "edgeslm.agent.sensors.oil.normal-min", "40",
                    "edgeslm.agent.sensors.oil.normal-max", "80")),
            "ignored");
    assertThat(v.simulator()).isFalse();
    assertThat(v.brokerUrl().orElseThrow().toString()).isEqualTo("tcp://broker.plant:1883");
    assertThat(v.sensors())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.alias()).isEqualTo("Press 3 oil temperature");
              assertThat(s.window()).isEqualTo(120);
            });
  }

  @Test
  void site_withSlash_rejectedNamingKeyValueRuleAndWhereToFix() {
    assertThatThrownBy(
            () -> ConfigValidator.validate(config(Map.of("edgeslm.agent.site", "plant/7")), "h"))
        .isInstanceOf(AgentConfigException.class)
        .hasMessage(
            "Invalid configuration edgeslm.agent.site='plant/7': expected 1-64 letters, digits,"
                + " '.', '_' or '-', starting with a letter or digit (it is an MQTT topic level)."
                + " Fix it in application.properties, the file named by EDGESLM_CONFIG, or the"
                + " environment variable EDGESLM_AGENT_SITE.")
        .extracting(e -> ((AgentConfigException) e).key())
        .isEqualTo("edgeslm.agent.site");
  }

  @Test
  void replyPrefixes_defaultToOperator_noneAllowsOnlyTheNodesOwnAndTheControllers()
      throws Exception {
    ValidatedConfig v = ConfigValidator.validate(config(Map.of()), "gw-1");
    assertThat(v.replies().operatorPrefixes()).containsExactly("operator/");
    assertThat(v.replies().permits("operator/answers")).isTrue();

    ValidatedConfig none =
        ConfigValidator.validate(config(Map.of("edgeslm.agent.qa.reply-prefixes", "none")), "gw-1");
    assertThat(none.replies().permits("operator/answers")).isFalse();
    assertThat(none.replies().permits("edge/v1/demo/gw-1/answers/q")).isTrue();
  }

  @Test
  void replyPrefix_insideTheNodeTopicsOrWithWildcards_rejected() {
    for (String prefix :
        List.of("edge/v1/", "edge/v1/s/gw-1/", "fleet/", "ops/#/", "$SYS/", "ops")) {
      assertThatThrownBy(
              () ->
                  ConfigValidator.validate(
                      config(Map.of("edgeslm.agent.qa.reply-prefixes", "operator/," + prefix)),
                      "gw-1"))
          .as(prefix)
          .isInstanceOf(AgentConfigException.class)
          .hasMessage(
              "Invalid configuration edgeslm.agent.qa.reply-prefixes='operator/,"
                  + prefix
                  + "': expected topic prefixes ending in '/', outside edge/v1/ and fleet/,"
                  + " without wildcards or '$' (for example operator/), or none. Fix it in"
                  + " application.properties, the file named by EDGESLM_CONFIG, or the environment"
                  + " variable EDGESLM_AGENT_QA_REPLY_PREFIXES.");
    }
  }

  @Test
  void brokerUrl_withUnknownScheme_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.broker.url", "http://broker:1883")), "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.broker.url='http://broker:1883': expected the"
                + " scheme must be tcp or ssl (MQTT over WebSocket is not supported).");
    // The MQTT layer speaks MQTT over TCP and TLS only.
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.broker.url", "wss://broker:443/mqtt")), "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.broker.url='wss://broker:443/mqtt': expected the"
                + " scheme must be tcp or ssl");
  }

  @Test
  void brokerUrl_withCredentials_rejectedWithoutEchoingThem() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.broker.url", "tcp://me:secret@broker:1883")), "h"))
        .hasMessageContaining("'tcp://***@broker'")
        .hasMessageNotContaining("secret");
  }

  @Test
  void sensor_withWildcardTopicOrInvertedRange_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.sensors.oil.topic", "plant/+/oil",
                            "edgeslm.agent.sensors.oil.normal-min", "40",
                            "edgeslm.agent.sensors.oil.normal-max", "80")),
                    "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.sensors.\"oil\".topic='plant/+/oil'");
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.sensors.oil.topic", "plant/oil",
                            "edgeslm.agent.sensors.oil.normal-min", "80",
                            "edgeslm.agent.sensors.oil.normal-max", "40")),
                    "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.sensors.\"oil\".normal-min='80.0..40.0':"
                + " expected normal-min must be finite and below normal-max.");
  }

  @Test
  void modelPath_missingFile_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.path", "/nonexistent/model.gguf")), "h"))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.path='/nonexistent/model.gguf': expected"
                + " the model file or bundle directory must exist");
  }

  @Test
  void noModel_andRulesFallbackOff_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.rules-fallback", "false")), "h"))
        .hasMessageStartingWith("Invalid configuration edgeslm.agent.model.rules-fallback='false'");
  }

  @Test
  void numbersOutOfRange_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.broker.max-inflight", "0")), "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.broker.max-inflight='0': expected between 1 and"
                + " 65535.");
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.report.interval", "0s")), "h"))
        .hasMessageStartingWith("Invalid configuration edgeslm.agent.report.interval='PT0S'");
  }

  @Test
  void modelSettingsAndDeviceClass_outOfRange_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.temperature", "3.5")), "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.temperature='3.5': expected between 0 and"
                + " 2.");
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.device-class", "gw 4g")), "h"))
        .hasMessageStartingWith("Invalid configuration edgeslm.agent.device-class='gw 4g'");
  }

  @Test
  void updates_offByDefault_onWithPinnedKeys_checkedIntoUpdateConfig() throws Exception {
    assertThat(ConfigValidator.validate(config(Map.of()), "h").updates()).isEmpty();

    java.nio.file.Path key = java.nio.file.Files.createTempFile("release", ".pub");
    try {
      ValidatedConfig v =
          ConfigValidator.validate(
              config(
                  Map.of(
                      "edgeslm.agent.updates.pinned-keys", key.toString(),
                      "edgeslm.agent.model.name", "plant-assistant",
                      "edgeslm.agent.updates.data-dir", "/var/lib/edgeslm",
                      "edgeslm.agent.updates.usb.watch-dir", "/media/usb",
                      "edgeslm.agent.updates.swap-mode", "stop-first")),
              "h");
      UpdateConfig u = v.updates().orElseThrow();
      assertThat(u.pinnedKeys()).containsExactly(key);
      assertThat(u.trustStore()).isEmpty();
      assertThat(u.model()).isEqualTo("plant-assistant");
      assertThat(u.channel()).isEqualTo("stable");
      assertThat(u.dataDir()).isEqualTo(java.nio.file.Path.of("/var/lib/edgeslm"));
      assertThat(u.usbWatchDir()).contains(java.nio.file.Path.of("/media/usb"));
      assertThat(u.soak()).isEqualTo(java.time.Duration.ofMinutes(5));
      assertThat(u.swapMode()).isEqualTo(io.edgeslm.inference.SwapMode.STOP_FIRST);

      // Turned off explicitly, the keys are ignored.
      assertThat(
              ConfigValidator.validate(
                      config(
                          Map.of(
                              "edgeslm.agent.updates.pinned-keys",
                              key.toString(),
                              "edgeslm.agent.updates.enabled",
                              "false")),
                      "h")
                  .updates())
          .isEmpty();

      // Without the model's name the node could not tell its model's assignments from others.
      assertThatThrownBy(
              () ->
                  ConfigValidator.validate(
                      config(Map.of("edgeslm.agent.updates.pinned-keys", key.toString())), "h"))
          .isInstanceOf(AgentConfigException.class)
          .hasMessageStartingWith(
              "Invalid configuration edgeslm.agent.model.name='(none)': expected the name of the"
                  + " model this node runs when updates are on");
      assertThatThrownBy(
              () ->
                  ConfigValidator.validate(
                      config(
                          Map.of(
                              "edgeslm.agent.updates.pinned-keys", key.toString(),
                              "edgeslm.agent.model.name", "m",
                              "edgeslm.agent.updates.soak-max-error-rate", "1.5")),
                      "h"))
          .hasMessageStartingWith(
              "Invalid configuration edgeslm.agent.updates.soak-max-error-rate='1.5': expected"
                  + " between 0 and 1.");
      assertThatThrownBy(
              () ->
                  ConfigValidator.validate(
                      config(
                          Map.of(
                              "edgeslm.agent.updates.pinned-keys", key.toString(),
                              "edgeslm.agent.model.name", "m",
                              "edgeslm.agent.updates.swap-mode", "hot")),
                      "h"))
          .hasMessageStartingWith(
              "Invalid configuration edgeslm.agent.updates.swap-mode='hot': expected auto,"
                  + " side-by-side or stop-first.");
    } finally {
      java.nio.file.Files.delete(key);
    }
  }

  @Test
  void updates_enabledWithoutTrust_orWithAMissingKey_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.updates.enabled", "true")), "h"))
        .isInstanceOf(AgentConfigException.class)
        .hasMessage(
            "Invalid configuration edgeslm.agent.updates.enabled='true': expected a trust store"
                + " (updates.trust-store) or pinned release keys (updates.pinned-keys) to verify"
                + " bundles with; without one no update can be trusted. Fix it in"
                + " application.properties, the file named by EDGESLM_CONFIG, or the environment"
                + " variable EDGESLM_AGENT_UPDATES_ENABLED.");
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.updates.pinned-keys", "/nonexistent/key.pem")),
                    "h"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.updates.pinned-keys='/nonexistent/key.pem':"
                + " expected the file must exist and be readable.");
  }

  @Test
  void hostName_sanitizedIntoATopicLevel() {
    assertThat(ConfigValidator.sanitizeHostName("--my host/01")).isEqualTo("my-host-01");
    assertThat(ConfigValidator.sanitizeHostName("")).isEqualTo("node");
  }

  @Test
  void engine_auto_withoutAnyLlamaServer_fallsBackToTheWorker_andSaysWhy() throws Exception {
    ValidatedConfig v =
        ConfigValidator.validate(config(Map.of()), "h", Map.of("PATH", "/nonexistent"));
    assertThat(v.engine().kind()).isEqualTo("worker");
    assertThat(v.engine().reason()).startsWith("model.engine=auto and no llama-server found");
  }

  @Test
  void engine_auto_withLlamaServerOnPath_choosesIt(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Path bin = fakeLlamaServer(dir);
    ValidatedConfig v =
        ConfigValidator.validate(config(Map.of()), "h", Map.of("PATH", "/nonexistent:" + dir));
    assertThat(v.engine().kind()).isEqualTo("llama-server");
    assertThat(v.engine().config())
        .isEqualTo(io.edgeslm.inference.EngineConfig.LlamaServerBackend.of(bin));
    assertThat(v.engine().reason()).isEqualTo("llama-server " + bin + " (PATH)");
  }

  @Test
  void firstTokenTimeout_reachesTheChosenEngine_andAnOutOfRangeValueIsRefused(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    fakeLlamaServer(dir);
    ValidatedConfig v =
        ConfigValidator.validate(
            config(Map.of("edgeslm.agent.model.first-token-timeout", "10m")),
            "h",
            Map.of("PATH", "/nonexistent:" + dir));
    assertThat(
            ((io.edgeslm.inference.EngineConfig.LlamaServerBackend) v.engine().config())
                .firstTokenTimeout())
        .isEqualTo(java.time.Duration.ofMinutes(10));
    ValidatedConfig worker =
        ConfigValidator.validate(
            config(
                Map.of(
                    "edgeslm.agent.model.first-token-timeout", "5m",
                    "edgeslm.agent.model.engine", "worker")),
            "h",
            Map.of());
    assertThat(
            ((io.edgeslm.inference.EngineConfig.WorkerBackend) worker.engine().config())
                .firstTokenTimeout())
        .isEqualTo(java.time.Duration.ofMinutes(5));

    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.first-token-timeout", "0s")), "h", Map.of()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith("Invalid configuration edgeslm.agent.model.first-token-timeout='");
  }

  @Test
  void restartBackoffMax_reachesBothEngines_andAValueBelowTheFirstDelayIsRefused(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    fakeLlamaServer(dir);
    ValidatedConfig v =
        ConfigValidator.validate(
            config(Map.of("edgeslm.agent.model.restart-backoff-max", "2s")),
            "h",
            Map.of("PATH", "/nonexistent:" + dir));
    var server = (io.edgeslm.inference.EngineConfig.LlamaServerBackend) v.engine().config();
    assertThat(server.restartBackoffMax()).isEqualTo(java.time.Duration.ofSeconds(2));
    assertThat(server.restartBackoffMin()).isEqualTo(java.time.Duration.ofMillis(500));
    assertThat(server.maxConsecutiveRestarts()).isEqualTo(10);
    ValidatedConfig worker =
        ConfigValidator.validate(
            config(
                Map.of(
                    "edgeslm.agent.model.restart-backoff-max", "5m",
                    "edgeslm.agent.model.engine", "worker")),
            "h",
            Map.of());
    assertThat(
            ((io.edgeslm.inference.EngineConfig.WorkerBackend) worker.engine().config())
                .restartBackoffMax())
        .isEqualTo(java.time.Duration.ofMinutes(5));

    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.restart-backoff-max", "100ms")),
                    "h",
                    Map.of()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.restart-backoff-max='PT0.1S'");
  }

  @Test
  void engine_unknownValue_isRefusedNamingKeyAndValue() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.engine", "vulkan")), "h", Map.of()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.engine='vulkan': expected one of auto,"
                + " llama-server, worker, http.");
  }

  @Test
  void engine_llamaServer_withoutABinary_isRefusedNamingTheScriptThatBuildsIt() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.engine", "llama-server")),
                    "h",
                    Map.of("PATH", "/nonexistent")))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.engine='llama-server': expected a"
                + " llama-server binary: set edgeslm.agent.model.llama-server to its path, put"
                + " llama-server on PATH, or build the pinned release with"
                + " scripts/ensure-llama-server.sh");
  }

  @Test
  void engine_llamaServerPath_notExecutable_isRefused() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.model.llama-server", "/nonexistent/llama-server")),
                    "h",
                    Map.of()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.llama-server='/nonexistent/llama-server':"
                + " expected an executable llama-server binary");
  }

  @Test
  void engine_http_needsAnHttpUrl_andAModelId() throws Exception {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.model.engine", "http",
                            "edgeslm.agent.model.http.url", "ftp://gpu-box:21",
                            "edgeslm.agent.model.http.model", "llama3.2:1b")),
                    "h",
                    Map.of()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.model.http.url='ftp://gpu-box:21': expected an"
                + " http:// or https:// URL.");
    ValidatedConfig v =
        ConfigValidator.validate(
            config(
                Map.of(
                    "edgeslm.agent.model.engine", "http",
                    "edgeslm.agent.model.http.url", "http://gpu-box:11434",
                    "edgeslm.agent.model.http.model", "llama3.2:1b")),
            "h",
            Map.of());
    assertThat(v.engine().kind()).isEqualTo("http");
    assertThat(v.engine().loadsModelFiles()).isFalse();
  }
}
