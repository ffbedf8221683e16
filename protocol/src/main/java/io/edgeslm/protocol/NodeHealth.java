package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;

/**
 * Periodic health on {@code edge/v1/{site}/{node}/health} (QoS 0, not retained). Counters are
 * cumulative since the agent started, so the controller derives rates from two messages and a lost
 * message loses nothing; gauges are the value at {@code at}.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param at when the values were taken
 * @param intervalSeconds the node's health period; the controller treats the node as silent after a
 *     few missed periods
 * @param ready readiness: broker connected and a model (or the configured rules fallback) serving
 * @param notReadyReason why not ready, for people; only when {@code ready} is false
 * @param source what serves requests now: {@code model} or {@code rules}
 * @param model the serving model; required when {@code source} is {@code model}
 * @param tokensPerSecond generation speed over the last period; absent without model traffic
 * @param p95LatencyMs 95th percentile of Q&A total time over the last period; absent without
 *     traffic
 * @param queueDepth requests waiting in the scheduler now
 * @param requests Q&A and report requests received since start, refused ones included (counter)
 * @param errors requests that ended in an error reply or a fallback since start (counter)
 * @param ramUsedBytes memory in use on the node
 * @param ramTotalBytes physical memory
 * @param diskFreeBytes free space on the model store's file system
 * @param cpuTemperatureC CPU temperature in °C; optional (not every board exposes it)
 * @param activationScore the serving model's activation-check score in [0, 1]; optional
 * @param adapter the LoRA adapter applied on top of {@code model}, when one is; absent when the
 *     base model serves alone
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeHealth(
    @JsonProperty(required = true) int schemaVersion,
    Instant at,
    @JsonProperty(required = true) int intervalSeconds,
    @JsonProperty(required = true) boolean ready,
    String notReadyReason,
    Source source,
    ModelRef model,
    Double tokensPerSecond,
    Long p95LatencyMs,
    @JsonProperty(required = true) int queueDepth,
    @JsonProperty(required = true) long requests,
    @JsonProperty(required = true) long errors,
    @JsonProperty(required = true) long ramUsedBytes,
    @JsonProperty(required = true) long ramTotalBytes,
    @JsonProperty(required = true) long diskFreeBytes,
    Double cpuTemperatureC,
    Double activationScore,
    ModelRef adapter) {

  public NodeHealth {
    Checks.schemaVersion("NodeHealth", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.required("at", at);
    Checks.range("intervalSeconds", intervalSeconds, 1, 86_400);
    Checks.optionalText("notReadyReason", notReadyReason, 500);
    Checks.check(
        !(ready && notReadyReason != null),
        "notReadyReason must be absent when ready is true: got "
            + Checks.quote(notReadyReason)
            + ". Drop the reason or report ready=false.");
    Checks.required("source", source);
    Checks.check(
        (source == Source.MODEL) == (model != null),
        "model must be present exactly when source is 'model': got source="
            + Checks.quote(source)
            + (model == null ? " without a model" : " with a model")
            + ". Name the serving model, or report source 'rules' without one.");
    Checks.optionalRange("tokensPerSecond", tokensPerSecond, 0.0, 1e9);
    Checks.optionalRange("p95LatencyMs", p95LatencyMs, 0, Long.MAX_VALUE);
    Checks.range("queueDepth", queueDepth, 0, Integer.MAX_VALUE);
    Checks.range("requests", requests, 0, Long.MAX_VALUE);
    Checks.range("errors", errors, 0, Long.MAX_VALUE);
    Checks.range("ramTotalBytes", ramTotalBytes, 1, Long.MAX_VALUE);
    Checks.range("ramUsedBytes", ramUsedBytes, 0, ramTotalBytes);
    Checks.range("diskFreeBytes", diskFreeBytes, 0, Long.MAX_VALUE);
    Checks.optionalRange("cpuTemperatureC", cpuTemperatureC, -100.0, 200.0);
    Checks.optionalRange("activationScore", activationScore, 0.0, 1.0);
    Checks.check(
        adapter == null || model != null,
        "adapter is only sent with the base model it is applied to: got an adapter without a"
            + " model. Name the base model, or leave the adapter out.");
  }

  /** Health without an adapter (the base model alone, or rules). */
  public NodeHealth(
      int schemaVersion,
      Instant at,
      int intervalSeconds,
      boolean ready,
      String notReadyReason,
      Source source,
      ModelRef model,
      Double tokensPerSecond,
      Long p95LatencyMs,
      int queueDepth,
      long requests,
      long errors,
      long ramUsedBytes,
      long ramTotalBytes,
      long diskFreeBytes,
      Double cpuTemperatureC,
      Double activationScore) {
    this(
        schemaVersion,
        at,
        intervalSeconds,
        ready,
        notReadyReason,
        source,
        model,
        tokensPerSecond,
        p95LatencyMs,
        queueDepth,
        requests,
        errors,
        ramUsedBytes,
        ramTotalBytes,
        diskFreeBytes,
        cpuTemperatureC,
        activationScore,
        null);
  }
}
