package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Overall state a sensor report announces. */
public enum ReportStatus {
  /** Nothing out of bounds. */
  @JsonProperty("ok")
  OK,
  /** Something needs attention soon. */
  @JsonProperty("warning")
  WARNING,
  /** Something needs attention now. */
  @JsonProperty("critical")
  CRITICAL
}
