package io.edgeslm.agent.internal.sensor.uns;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.mqtt.InboundMessage;
import io.edgeslm.agent.internal.sensor.SensorIngest;
import io.edgeslm.agent.internal.sensor.SensorStore;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class UnsIngestTest {

  private final SensorStore store = new SensorStore(List.of(), 100);
  private final UnsIngest uns =
      new UnsIngest(
          List.of(
              new UnsRoute(
                  "line",
                  "acme/+site/+line/+machine/+metric",
                  "{site}.{machine}.{metric}",
                  "{machine} {metric}",
                  null,
                  Double.NaN,
                  Double.NaN,
                  null,
                  10),
              new UnsRoute(
                  "oil",
                  "acme/+site/+line/press3/oil_temp",
                  "{site}.press3.oil_temp",
                  "Press 3 oil temperature",
                  "°C",
                  40,
                  80,
                  "/data/v",
                  10)),
          4096,
          store,
          new SensorIngest(
              store, Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC), () -> {}));

  private static InboundMessage message(String topic, String payload) {
    return new InboundMessage(
        topic,
        payload.getBytes(StandardCharsets.UTF_8),
        1,
        false,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        List.of(),
        0);
  }

  @Test
  void patternInsideAnother_onlyTheOuterIsSubscribed_andTheInnerRouteStillApplies()
      throws Exception {
    assertThat(uns.filters()).containsExactly("acme/+/+/+/+");
    uns.handlerFor("acme/+/+/+/+")
        .onMessage(message("acme/p7/l1/press3/oil_temp", "{\"data\":{\"v\":71.5}}"));
    var w = store.byId("p7.press3.oil_temp").orElseThrow();
    assertThat(w.spec().unit()).isEqualTo("°C");
    assertThat(w.spec().alias()).isEqualTo("Press 3 oil temperature");
    assertThat(w.samples()).hasSize(1);
    assertThat(uns.values()).isEqualTo(1);
  }

  @Test
  void unreadablePayload_isRefusedAndCountedNotStored() throws Exception {
    uns.handlerFor("acme/+/+/+/+").onMessage(message("acme/p7/l1/press3/speed", "{\"value\":"));
    assertThat(uns.refused()).isEqualTo(1);
    assertThat(store.size()).isZero();
  }
}
