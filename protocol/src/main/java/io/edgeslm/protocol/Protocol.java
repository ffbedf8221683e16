package io.edgeslm.protocol;

import io.edgeslm.protocol.internal.check.Checks;

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

  /**
   * What {@link #sanitizeText} puts where a refused character was: U+FFFD REPLACEMENT CHARACTER.
   */
  public static final char REPLACEMENT = '\uFFFD';

  /**
   * Makes untrusted text (a model's output) fit the protocol's text fields, which refuse control
   * characters: every ISO control character (U+0000 to U+001F, U+007F to U+009F) except tab, line
   * feed and carriage return becomes {@link #REPLACEMENT}, one character for one, so lengths and
   * positions stay as they were. Everything else is kept as it is.
   *
   * @param text any text
   * @return the same text with refused characters replaced; {@code text} itself if none was found
   */
  public static String sanitizeText(String text) {
    int i = 0;
    while (i < text.length() && allowed(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder b = new StringBuilder(text.length()).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      b.append(allowed(c) ? c : REPLACEMENT);
    }
    return b.toString();
  }

  private static boolean allowed(char c) {
    return Checks.allowedInText(c);
  }

  private Protocol() {}
}
