package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.List;

/**
 * A sensor report published on {@code edge/v1/{site}/{node}/report}: the {@link ReportContent}
 * fields, flat, plus its provenance.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param status see {@link ReportContent}
 * @param summary see {@link ReportContent}
 * @param anomalies see {@link ReportContent}
 * @param recommendation see {@link ReportContent}
 * @param provenance model or rules, fallback flag, window and time
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SensorReport(
    @JsonProperty(required = true) int schemaVersion,
    ReportStatus status,
    String summary,
    @JsonProperty(required = true) List<Anomaly> anomalies,
    String recommendation,
    ReportProvenance provenance) {

  public SensorReport {
    Checks.schemaVersion("SensorReport", schemaVersion, Protocol.SCHEMA_VERSION);
    ReportContent checked = new ReportContent(status, summary, anomalies, recommendation);
    anomalies = checked.anomalies();
    Checks.required("provenance", provenance);
  }

  /** A current-version report from its content and provenance. */
  public static SensorReport of(ReportContent content, ReportProvenance provenance) {
    Checks.required("content", content);
    return new SensorReport(
        Protocol.SCHEMA_VERSION,
        content.status(),
        content.summary(),
        content.anomalies(),
        content.recommendation(),
        provenance);
  }

  /** The model-written part of this report. */
  @JsonIgnore
  public ReportContent content() {
    return new ReportContent(status, summary, anomalies, recommendation);
  }
}
