package io.edgeslm.fleet.internal.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.mqtt.Message;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The one-pass read of health messages accepts exactly what {@link Json#read} accepts, with the
 * same values, and refuses (and counts) what it refuses.
 */
class FleetIngestHealthTest {

  static final String TOPIC = "edge/v1/plant-1/gw-1/health";
  static final ModelRef MODEL = ModelRef.of("phi-mini", 3, "sha256:" + "a".repeat(64));

  final FleetIngest ingest = new FleetIngest(null, null, null, null, null, Clock.systemUTC());

  static NodeHealth health(boolean ready, String reason) {
    return new NodeHealth(
        Protocol.SCHEMA_VERSION,
        Instant.parse("2026-03-02T10:00:00.123456789Z"),
        30,
        ready,
        reason,
        Source.MODEL,
        MODEL,
        12.5,
        700L,
        1,
        1_000,
        3,
        1L << 30,
        8L << 30,
        10L << 30,
        null,
        0.9);
  }

  NodeHealth read(String json) {
    return ingest.readHealth(
        TOPIC, Message.of(TOPIC, json.getBytes(StandardCharsets.UTF_8), 0, false));
  }

  @Test
  void readHealth_validAsciiPayload_equalsTheFullRead() throws Exception {
    byte[] payload = Json.write(health(true, null));
    NodeHealth fast = ingest.readHealth(TOPIC, Message.of(TOPIC, payload, 0, false));
    assertThat(fast).isEqualTo(Json.read(payload, NodeHealth.class));
    assertThat(ingest.invalidMessages()).isZero();
  }

  @Test
  void readHealth_nonAsciiReason_isReadByTheFullPath() throws Exception {
    byte[] payload = Json.write(health(false, "Temperatur über Grenzwert"));
    NodeHealth h = ingest.readHealth(TOPIC, Message.of(TOPIC, payload, 0, false));
    assertThat(h.notReadyReason()).isEqualTo("Temperatur über Grenzwert");
    assertThat(ingest.invalidMessages()).isZero();
  }

  @Test
  void readHealth_newerSchemaVersion_isRefusedAndCounted() {
    String json = new String(Json.write(health(true, null)), StandardCharsets.UTF_8);
    assertThat(read(json.replace("\"schemaVersion\":1", "\"schemaVersion\":99"))).isNull();
    assertThat(ingest.invalidMessages()).isEqualTo(1);
  }

  @Test
  void readHealth_invalidUtf8_isRefusedAndCounted() {
    byte[] payload = Json.write(health(false, "x"));
    String json = new String(payload, StandardCharsets.UTF_8);
    int at = json.indexOf("\"x\"") + 1;
    payload[at] = (byte) 0xC3; // a lead byte without its continuation
    assertThat(ingest.readHealth(TOPIC, Message.of(TOPIC, payload, 0, false))).isNull();
    assertThat(ingest.invalidMessages()).isEqualTo(1);
  }

  @Test
  void readHealth_trailingGarbageOrWrongType_isRefusedAndCounted() {
    String json = new String(Json.write(health(true, null)), StandardCharsets.UTF_8);
    assertThat(read(json + "{}")).isNull();
    assertThat(read(json.replace("\"ready\":true", "\"ready\":\"true\""))).isNull();
    assertThat(read("")).isNull();
    assertThat(ingest.invalidMessages()).isEqualTo(3);
  }
}
