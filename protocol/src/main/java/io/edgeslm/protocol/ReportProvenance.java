package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * Where a sensor report came from.
 *
 * @param source {@code model} or {@code rules}
 * @param model the model that phrased it; required when {@code source} is {@code model}, absent
 *     otherwise
 * @param fallback true when the rules wrote it because the model could not (unavailable, busy,
 *     invalid output); a rules-only node reports {@code false}
 * @param window the sensor data window the report covers
 * @param generatedAt when the report was produced
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReportProvenance(
    Source source,
    ModelRef model,
    @JsonProperty(required = true) boolean fallback,
    TimeWindow window,
    Instant generatedAt) {

  public ReportProvenance {
    Checks.required("provenance.source", source);
    Checks.check(
        (source == Source.MODEL) == (model != null),
        "provenance.model must be present exactly when provenance.source is 'model': got source="
            + Checks.quote(source)
            + (model == null ? " without a model" : " with a model")
            + ". Name the model for model output, omit it for rules.");
    Checks.check(
        !(fallback && source == Source.MODEL),
        "provenance.fallback=true requires source 'rules': got source 'model'. A fallback report"
            + " is written by the rules.");
    Checks.required("provenance.window", window);
    Checks.required("provenance.generatedAt", generatedAt);
  }

  /** A report phrased by {@code model}. */
  public static ReportProvenance model(ModelRef model, TimeWindow window, Instant generatedAt) {
    return new ReportProvenance(Source.MODEL, model, false, window, generatedAt);
  }

  /** A report written by the rules; {@code fallback} says whether a model should have. */
  public static ReportProvenance rules(boolean fallback, TimeWindow window, Instant generatedAt) {
    return new ReportProvenance(Source.RULES, null, fallback, window, generatedAt);
  }
}
