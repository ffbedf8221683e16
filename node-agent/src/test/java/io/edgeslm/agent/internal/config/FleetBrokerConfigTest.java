package io.edgeslm.agent.internal.config;

import static io.edgeslm.agent.internal.config.ConfigValidatorTest.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The optional fleet broker ({@code edgeslm.agent.fleet.broker.*}) as checked at start-up. */
class FleetBrokerConfigTest {

  private static final String LOCAL = "tcp://plant-broker:1883";

  @Test
  void noFleetBroker_oneConnectionCarriesEverything() throws Exception {
    ValidatedConfig v =
        ConfigValidator.validate(config(Map.of("edgeslm.agent.broker.url", LOCAL)), "gw");
    assertThat(v.fleetBrokerUrl()).isEmpty();
    assertThat(v.splitBrokers()).isFalse();
  }

  @Test
  void fleetBroker_isCheckedAndSplitsTheConnections() throws Exception {
    ValidatedConfig v =
        ConfigValidator.validate(
            config(
                Map.of(
                    "edgeslm.agent.broker.url", LOCAL,
                    "edgeslm.agent.fleet.broker.url", "ssl://fleet.example:8883",
                    "edgeslm.agent.fleet.broker.keep-alive", "20s")),
            "gw");
    assertThat(v.fleetBrokerUrl().orElseThrow().toString()).isEqualTo("ssl://fleet.example:8883");
    assertThat(v.brokerUrl().orElseThrow().toString()).isEqualTo(LOCAL);
    assertThat(v.splitBrokers()).isTrue();
  }

  @Test
  void fleetBrokerUrl_withUnknownScheme_rejectedNamingTheFleetKey() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.broker.url",
                            LOCAL,
                            "edgeslm.agent.fleet.broker.url",
                            "http://fleet:1883")),
                    "gw"))
        .isInstanceOf(AgentConfigException.class)
        .hasMessage(
            "Invalid configuration edgeslm.agent.fleet.broker.url='http://fleet:1883': expected"
                + " the scheme must be tcp or ssl (MQTT over WebSocket is not supported). Fix it"
                + " in application.properties, the file named by EDGESLM_CONFIG, or the"
                + " environment variable EDGESLM_AGENT_FLEET_BROKER_URL.");
  }

  @Test
  void fleetBrokerUrl_withCredentials_pointsAtTheFleetCredentialKeys() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(Map.of("edgeslm.agent.fleet.broker.url", "tcp://n:secret@fleet:1883")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.url='tcp://***@fleet': expected"
                + " credentials go in fleet.broker.username and fleet.broker.password, not in the"
                + " URL.")
        .hasMessageNotContaining("secret");
  }

  @Test
  void fleetBrokerUrl_sameListenerAsTheLocalBroker_rejected() {
    // Two connections with the node's one client id would take each other's session over.
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.broker.url",
                            "tcp://Broker.plant",
                            "edgeslm.agent.fleet.broker.url",
                            "tcp://broker.plant:1883")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.url='tcp://broker.plant:1883':"
                + " expected a broker other than broker.url (leave fleet.broker.url unset to carry"
                + " everything on one connection).");
  }

  @Test
  void fleetBrokerTls_withPlainTcpUrl_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.broker.url", LOCAL,
                            "edgeslm.agent.fleet.broker.url", "tcp://fleet:1883",
                            "edgeslm.agent.fleet.broker.tls.ca", "/etc/hosts")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.url='tcp://fleet:1883': expected TLS"
                + " key or trust stores need an ssl:// broker URL.");
  }

  @Test
  void fleetBrokerCertificate_withoutItsKey_rejected() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.fleet.broker.url", "ssl://fleet:8883",
                            "edgeslm.agent.fleet.broker.tls.certificate", "/etc/hosts")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.tls.private-key='(none)': expected"
                + " tls.certificate and tls.private-key set together.");
  }

  @Test
  void fleetBrokerTlsFile_missing_rejectedNamingKeyAndValue() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.fleet.broker.url",
                            "ssl://fleet:8883",
                            "edgeslm.agent.fleet.broker.tls.ca",
                            "/nonexistent/fleet-ca.pem")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.tls.ca='/nonexistent/fleet-ca.pem':"
                + " expected the file must exist and be readable.");
  }

  @Test
  void fleetBrokerBounds_checkedLikeTheLocalBroker() {
    assertThatThrownBy(
            () ->
                ConfigValidator.validate(
                    config(
                        Map.of(
                            "edgeslm.agent.fleet.broker.url", "tcp://fleet:1883",
                            "edgeslm.agent.fleet.broker.max-inflight", "0")),
                    "gw"))
        .hasMessageStartingWith(
            "Invalid configuration edgeslm.agent.fleet.broker.max-inflight='0': expected between"
                + " 1 and 65535.");
  }
}
