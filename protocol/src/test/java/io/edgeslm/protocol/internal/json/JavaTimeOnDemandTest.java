package io.edgeslm.protocol.internal.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.edgeslm.protocol.Json;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.MonthDay;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.Period;
import java.time.Year;
import java.time.YearMonth;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Json's on-demand java.time support writes and reads what JavaTimeModule does. */
class JavaTimeOnDemandTest {

  record AllOfJavaTime(
      Instant instant,
      Duration duration,
      LocalDate localDate,
      LocalDateTime localDateTime,
      LocalTime localTime,
      MonthDay monthDay,
      OffsetDateTime offsetDateTime,
      OffsetTime offsetTime,
      Period period,
      Year year,
      YearMonth yearMonth,
      ZoneId zoneId,
      ZoneOffset zoneOffset,
      ZonedDateTime zonedDateTime,
      Map<LocalDate, Duration> byDay) {}

  private static final AllOfJavaTime VALUE =
      new AllOfJavaTime(
          Instant.parse("2026-12-07T23:40:01.123456Z"),
          Duration.ofMinutes(5).plusMillis(250),
          LocalDate.of(2026, 12, 7),
          LocalDateTime.of(2026, 12, 7, 23, 40, 1),
          LocalTime.of(23, 40, 1),
          MonthDay.of(12, 7),
          OffsetDateTime.of(2026, 12, 7, 23, 40, 1, 0, ZoneOffset.ofHours(1)),
          OffsetTime.of(23, 40, 1, 0, ZoneOffset.ofHours(-3)),
          Period.ofDays(9),
          Year.of(2026),
          YearMonth.of(2026, 12),
          ZoneId.of("Europe/Berlin"),
          ZoneOffset.ofHoursMinutes(5, 30),
          ZonedDateTime.of(2026, 12, 7, 23, 40, 1, 0, ZoneId.of("Europe/Berlin")),
          new TreeMap<>(Map.of(LocalDate.of(2026, 12, 7), Duration.ofSeconds(3))));

  /**
   * What the shared mapper did before: JavaTimeModule registered directly, Json's date features.
   */
  private static ObjectMapper withJavaTimeModule() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
        .build();
  }

  @Test
  void write_everyJavaTimeType_isWhatJavaTimeModuleWrites() throws Exception {
    assertThat(Json.mapper().writeValueAsString(VALUE))
        .isEqualTo(withJavaTimeModule().writeValueAsString(VALUE));
  }

  @Test
  void write_durationsAsText_asTheRolloutStoreConfiguresIt() throws Exception {
    ObjectMapper rollouts =
        Json.mapper().copy().disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

    assertThat(rollouts.writeValueAsString(Duration.ofMinutes(90))).isEqualTo("\"PT1H30M\"");
    assertThat(rollouts.readValue("\"PT1H30M\"", Duration.class)).isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void read_whatJavaTimeModuleWrote_givesTheSameValues() throws Exception {
    String json = withJavaTimeModule().writeValueAsString(VALUE);

    AllOfJavaTime read = Json.mapper().readValue(json, AllOfJavaTime.class);

    assertThat(read).isEqualTo(withJavaTimeModule().readValue(json, AllOfJavaTime.class));
    assertThat(read.instant()).isEqualTo(VALUE.instant());
    assertThat(read.byDay()).isEqualTo(VALUE.byDay());
    assertThat(read.zoneId()).isEqualTo(VALUE.zoneId());
  }
}
