package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.util.List;

/**
 * The part of a sensor report that a model (or the rule-based fallback) writes. Its JSON form is
 * described by the published schema {@link Protocol#SENSOR_REPORT_SCHEMA}, which states the same
 * bounds as this constructor. The constructor is stricter in two ways a JSON schema cannot state
 * simply for grammar generation: text must not be blank (only whitespace) and must not contain
 * control characters other than tab and line breaks.
 *
 * @param status overall state
 * @param summary one or two sentences, 1 to 500 characters
 * @param anomalies what is out of bounds, at most 32 entries (empty when all is well)
 * @param recommendation what the operator should do, 1 to 500 characters
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReportContent(
    ReportStatus status,
    String summary,
    @JsonProperty(required = true) List<Anomaly> anomalies,
    String recommendation) {

  /** Longest {@code summary} and {@code recommendation}. */
  public static final int MAX_TEXT_CHARS = 500;

  /** Most anomalies in one report. */
  public static final int MAX_ANOMALIES = 32;

  public ReportContent {
    Checks.required("report.status", status);
    Checks.text("report.summary", summary, MAX_TEXT_CHARS);
    anomalies = Checks.list("report.anomalies", anomalies, MAX_ANOMALIES);
    Checks.text("report.recommendation", recommendation, MAX_TEXT_CHARS);
  }
}
