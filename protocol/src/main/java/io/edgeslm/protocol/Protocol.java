package io.edgeslm.protocol;

/** Constants of the EdgeSLM wire contract (see {@code docs/protocol.md}). */
public final class Protocol {

  /**
   * The schema version this library writes and the highest it reads. Every wire record carries it
   * as {@code schemaVersion}. Additive changes (a new optional field) keep the number, because
   * readers ignore fields they do not know; a change that an old reader would misread (a removed or
   * renamed field, a new meaning, a new enum value) raises it.
   */
  public static final int SCHEMA_VERSION = 1;

  /** Class-path folder of the published JSON schemas. */
  public static final String SCHEMA_RESOURCE_DIR = "io/edgeslm/protocol/schemas/";

  /**
   * Class-path resource of the JSON schema (draft-07) for the part of a sensor report that a model
   * writes: {@code status}, {@code summary}, {@code anomalies}, {@code recommendation}; see {@link
   * ReportContent}.
   */
  public static final String SENSOR_REPORT_SCHEMA =
      SCHEMA_RESOURCE_DIR + "sensor-report.schema.json";

  private Protocol() {}
}
