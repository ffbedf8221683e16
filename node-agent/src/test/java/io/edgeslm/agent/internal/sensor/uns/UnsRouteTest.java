package io.edgeslm.agent.internal.sensor.uns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnsRouteTest {

  private static UnsRoute route(String pattern, String id) {
    return new UnsRoute("r", pattern, id, null, null, Double.NaN, Double.NaN, null, 120);
  }

  private static UnsReading read(String json, String pointer) throws Exception {
    return UnsReading.of(
        Json.readTree(json.getBytes(StandardCharsets.UTF_8), "test", 4096), pointer);
  }

  @Test
  void namedLevels_fillTheTemplates() {
    UnsRoute r = route("plant/+site/+line/+machine/+metric", "{site}.{machine}.{metric}");
    Map<String, String> levels = r.match("plant/p7/line1/press3/oil_temp").orElseThrow();
    assertThat(UnsRoute.render(r.idTemplate(), levels)).isEqualTo("p7.press3.oil_temp");
    assertThat(r.filter()).isEqualTo("plant/+/+/+/+");
    assertThat(r.problem()).isEmpty();
  }

  @Test
  void match_wrongLiteralOrLevelCount_noMatch() {
    UnsRoute r = route("plant/+site/+metric", "{topic}");
    assertThat(r.match("plant/p7")).isEmpty();
    assertThat(r.match("plant/p7/a/b")).isEmpty();
    assertThat(r.match("other/p7/a")).isEmpty();
    assertThat(r.match("plant/p7/a").orElseThrow()).containsEntry("topic", "plant/p7/a");
  }

  @Test
  void multiLevelWildcard_matchesAnyDepth() {
    UnsRoute r = route("plant/p7/#", "{topic}");
    assertThat(r.match("plant/p7/line1/press3/oil")).isPresent();
    assertThat(r.filter()).isEqualTo("plant/p7/#");
  }

  @Test
  void templateNamingAnUnknownLevel_isAProblemOfThatKey() {
    UnsRoute.Problem p = route("plant/+site/+metric", "{machine}.{metric}").problem().orElseThrow();
    assertThat(p.field()).isEqualTo("sensor-id");
    assertThat(p.rule())
        .isEqualTo(
            "placeholders the pattern names ({site}, {metric}, {topic}); {machine} is not one");
  }

  @Test
  void wildcardInsideALevel_orHashNotLast_isATopicProblem() {
    assertThat(route("plant/a+b/x", "{topic}").problem().orElseThrow().rule())
        .isEqualTo("an MQTT topic pattern: wildcards fill a whole level: got 'a+b'");
    assertThat(route("plant/#/x", "{topic}").problem().orElseThrow().rule())
        .isEqualTo("an MQTT topic pattern: '#' may only be the last level");
    assertThat(route("plant/+m/+m", "{m}").problem().orElseThrow().rule())
        .isEqualTo("an MQTT topic pattern: the level name 'm' is used twice");
  }

  @Test
  void specificity_countsLiteralLevels() {
    assertThat(route("acme/+s/+l/press3/oil_temp", "x").specificity()).isEqualTo(3);
    assertThat(route("acme/+s/+l/+m/+x", "x").specificity()).isEqualTo(1);
  }

  @Test
  void readings_number_object_pointer_boolean() throws Exception {
    assertThat(read("71.5", null).value()).isEqualTo(71.5);
    UnsReading o =
        read("{\"value\":3,\"unit\":\"bar\",\"timestamp\":\"2026-12-01T10:00:00Z\"}", null);
    assertThat(o.value()).isEqualTo(3.0);
    assertThat(o.unit()).isEqualTo("bar");
    assertThat(o.at()).isEqualTo(Instant.parse("2026-12-01T10:00:00Z"));
    assertThat(read("{\"value\":3,\"ts\":1764583200000}", null).at())
        .isEqualTo(Instant.ofEpochMilli(1764583200000L));
    assertThat(read("{\"data\":{\"v\":[1,42.5]}}", "/data/v/1").value()).isEqualTo(42.5);
    assertThat(read("true", null).value()).isEqualTo(1.0);
  }

  @Test
  void readings_withoutANumber_areRefusedSayingWhy() {
    assertThatThrownBy(() -> read("{\"value\":\"hot\"}", null))
        .hasMessage("value is not a number: STRING");
    assertThatThrownBy(() -> read("{\"v\":1}", null)).hasMessage("an object without \"value\"");
    assertThatThrownBy(() -> read("{\"data\":{}}", "/data/v"))
        .hasMessage("nothing at the JSON pointer /data/v");
    assertThatThrownBy(() -> read("{\"value\":1,\"timestamp\":\"yesterday\"}", null))
        .hasMessage("timestamp is not ISO-8601: yesterday");
  }

  @Test
  void overlappingPatterns_theCoveredFilterIsNotSubscribed_andAMessageIsStoredOnce() {
    assertThat(UnsRoute.covers("acme/+/+/+/+", "acme/+/+/press3/oil_temp")).isTrue();
    assertThat(UnsRoute.covers("acme/+/+/press3/oil_temp", "acme/+/+/+/+")).isFalse();
    assertThat(UnsRoute.covers("acme/#", "acme/+/x")).isTrue();
    assertThat(UnsRoute.filterMatches("acme/+/+/press3/oil_temp", "acme/p7/l1/press3/oil_temp"))
        .isTrue();
    assertThat(UnsRoute.filterMatches("acme/+", "acme/p7/l1")).isFalse();
  }
}
