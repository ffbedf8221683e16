package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The published model-output schema agrees with {@link ReportContent}. */
class SensorReportSchemaTest {

  private static JsonSchema schema;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in =
        SensorReportSchemaTest.class
            .getClassLoader()
            .getResourceAsStream(Protocol.SENSOR_REPORT_SCHEMA)) {
      assertThat(in).as("class-path resource " + Protocol.SENSOR_REPORT_SCHEMA).isNotNull();
      schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(in);
    }
  }

  private static Set<ValidationMessage> validate(String json) throws Exception {
    return schema.validate(Json.mapper().readTree(json));
  }

  @Test
  void schema_acceptsContentWrittenByTheRecord() throws Exception {
    ReportContent content =
        new ReportContent(
            ReportStatus.CRITICAL,
            "Pump 4 pressure dropped sharply.",
            List.of(new Anomaly("pump4/pressure", 1.2, "bar", "rate", "Fell 3 bar in a minute.")),
            "Stop pump 4 and inspect the seal.");

    assertThat(validate(Json.writeString(content))).isEmpty();
  }

  @Test
  void schema_refusesProvenanceBecauseTheNodeAddsIt() throws Exception {
    SensorReport report =
        SensorReport.of(
            new ReportContent(ReportStatus.OK, "All normal.", List.of(), "No action needed."),
            ReportProvenance.rules(
                false, new TimeWindow(Instant.EPOCH, Instant.EPOCH), Instant.EPOCH));

    assertThat(validate(Json.writeString(report)))
        .extracting(ValidationMessage::getMessage)
        .anySatisfy(m -> assertThat(m).contains("provenance"));
  }

  @Test
  void schema_refusesUnknownStatusAndOverlongSummary() throws Exception {
    String json =
        "{\"status\":\"fine\",\"summary\":\""
            + "x".repeat(501)
            + "\",\"anomalies\":[],\"recommendation\":\"r\"}";

    assertThat(validate(json)).hasSize(2);
  }

  @Test
  void schemaAndRecord_agreeOnEveryBound() throws Exception {
    JsonNode props = Json.mapper().readTree(schema.getSchemaNode().toString()).get("properties");

    assertThat(props.at("/summary/maxLength").asInt()).isEqualTo(ReportContent.MAX_TEXT_CHARS);
    assertThat(props.at("/recommendation/maxLength").asInt())
        .isEqualTo(ReportContent.MAX_TEXT_CHARS);
    assertThat(props.at("/anomalies/maxItems").asInt()).isEqualTo(ReportContent.MAX_ANOMALIES);
    assertThat(props.at("/anomalies/items/properties/detail/maxLength").asInt())
        .isEqualTo(Anomaly.MAX_DETAIL_CHARS);
  }
}
