package io.edgeslm.agent.internal.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.InvalidOutputException;
import io.edgeslm.inference.OutputSchema;
import io.edgeslm.inference.Priority;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.TokenListener;
import io.edgeslm.protocol.Anomaly;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.ReportContent;
import io.edgeslm.protocol.ReportProvenance;
import io.edgeslm.protocol.ReportStatus;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.TimeWindow;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The sensor report: anomalies and status are computed in Java ({@link ReportRules}); a model, if
 * configured, phrases the summary and recommendation under a JSON schema derived from the published
 * report schema, with the status narrowed to the computed one. The report always validates against
 * the published schema ({@code io/edgeslm/protocol/schemas/ sensor-report.schema.json}); when the
 * model is unavailable, busy, late or writes anything invalid, the rule-based wording stands in and
 * the report says {@code fallback: true}.
 */
public final class SensorReportTask {
  private static final int MAX_WINDOWS = 256;

  private final Scheduler scheduler;
  private final ModelRef model;
  private final ReportRules rules;
  private final TaskLimits limits;

  private SensorReportTask(
      Scheduler scheduler, ModelRef model, ReportRules rules, TaskLimits limits) {
    this.scheduler = scheduler;
    this.model = model;
    this.rules = Objects.requireNonNull(rules, "rules");
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** Reports written by the rules alone ({@code source: rules, fallback: false}). */
  public static SensorReportTask rulesOnly(ReportRules rules) {
    return new SensorReportTask(null, null, rules, TaskLimits.reportDefaults());
  }

  /** Reports phrased by the model behind {@code scheduler} (batch priority). */
  public static SensorReportTask withModel(
      Scheduler scheduler, ModelRef model, ReportRules rules, TaskLimits limits) {
    return new SensorReportTask(
        Objects.requireNonNull(scheduler, "scheduler"),
        Objects.requireNonNull(model, "model"),
        rules,
        limits);
  }

  /** The published report schema, as the validator uses it. */
  public static OutputSchema publishedSchema() {
    return Published.SCHEMA;
  }

  /**
   * The published schema, compiled when a report first needs it rather than when the serving stack
   * is built: compiling it (the JSON Schema validator and much of Jackson, in the interpreter) took
   * a few hundred milliseconds of the agent's start-up right before its first MQTT connect, which
   * readiness waits for. The first report comes an interval after the start, on the report thread.
   */
  private static final class Published {
    static final OutputSchema SCHEMA = loadPublished();
  }

  /**
   * Produces a report for the windows. Never fails for model reasons: see the class comment.
   *
   * @param windows one per sensor, 1..256, sensor ids unique
   * @param now the report time (the caller's clock)
   * @throws IllegalArgumentException if the windows break those bounds
   */
  public TaskOutcome<SensorReport> run(List<SensorWindow> windows, Instant now) {
    Objects.requireNonNull(windows, "windows");
    Objects.requireNonNull(now, "now");
    if (windows.isEmpty() || windows.size() > MAX_WINDOWS) {
      throw new IllegalArgumentException(
          "A report needs 1.." + MAX_WINDOWS + " sensor windows, got " + windows.size());
    }
    Set<String> ids = new HashSet<>();
    for (SensorWindow w : windows) {
      if (!ids.add(w.sensor())) {
        throw new IllegalArgumentException("Sensor '" + w.sensor() + "' appears twice");
      }
    }
    AnomalyDetector.Findings findings = AnomalyDetector.detect(windows, rules);
    TimeWindow window = window(windows);
    ReportContent rulesContent = RuleReport.content(findings);
    requireValid(rulesContent);
    if (scheduler == null) {
      return new TaskOutcome<>(
          SensorReport.of(rulesContent, ReportProvenance.rules(false, window, now)),
          Optional.empty());
    }
    try {
      ReportContent c = phrase(findings, windows, window);
      return new TaskOutcome<>(
          SensorReport.of(c, ReportProvenance.model(model, window, now)), Optional.empty());
    } catch (InferenceException | IllegalArgumentException e) {
      return new TaskOutcome<>(
          SensorReport.of(rulesContent, ReportProvenance.rules(true, window, now)),
          Optional.of(e.getClass().getSimpleName() + ": " + e.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new TaskOutcome<>(
          SensorReport.of(rulesContent, ReportProvenance.rules(true, window, now)),
          Optional.of("Interrupted"));
    }
  }

  /**
   * Sentences as the model must write them: a capital letter first, a full stop last, plain
   * printable characters between. Narrower than the published schema (which a blank or
   * control-character string would pass but the report record refuses), so that the grammar cannot
   * lead a model into text the record rejects.
   */
  static final String SENTENCE_PATTERN = "^[A-Z][A-Za-z0-9 ,;:%()/+'-]{8,400}[.]$";

  /** The per-request schema: status narrowed to the computed value, texts as published. */
  static OutputSchema modelSchema(ReportStatus status) {
    ObjectNode published = Published.SCHEMA.tree();
    ObjectNode s = published.objectNode();
    s.put("type", "object");
    s.put("additionalProperties", false);
    s.putArray("required").add("status").add("summary").add("recommendation");
    ObjectNode props = s.putObject("properties");
    props.set("status", published.at("/properties/status").deepCopy());
    for (String text : List.of("summary", "recommendation")) {
      ObjectNode p = published.at("/properties/" + text).deepCopy();
      p.put("pattern", SENTENCE_PATTERN);
      props.set(text, p);
    }
    return OutputSchema.of(s)
        .restrictEnum("/properties/status", List.of(status.name().toLowerCase(Locale.ROOT)));
  }

  private ReportContent phrase(
      AnomalyDetector.Findings f, List<SensorWindow> windows, TimeWindow window)
      throws InferenceException, InterruptedException {
    OutputSchema schema = modelSchema(f.status());
    String status = f.status().name().toLowerCase(Locale.ROOT);
    StringBuilder user = new StringBuilder();
    user.append("Sensor window ")
        .append(window.from())
        .append(" to ")
        .append(window.to())
        .append(". Status computed by the plant rules: ")
        .append(status)
        .append(".\n");
    if (f.anomalies().isEmpty()) {
      user.append("No anomalies.\n");
    } else {
      user.append("Anomalies:\n");
      for (Anomaly a : f.anomalies()) {
        user.append("- ").append(a.sensor()).append(" (").append(a.rule()).append("): ");
        user.append(a.detail()).append('\n');
      }
    }
    user.append("Sensors:\n");
    for (SensorWindow w : windows) {
      user.append("- ")
          .append(w.sensor())
          .append(": latest ")
          .append(Numbers.withUnit(w.latest().value(), w.unit()))
          .append(", normal ")
          .append(Numbers.range(w.normal().min(), w.normal().max()))
          .append('\n');
    }
    user.append(
        "Answer with JSON only: {\"status\": \""
            + status
            + "\", \"summary\": one or two sentences, \"recommendation\": what the operator"
            + " should do}.");
    GenerationRequest request =
        GenerationRequest.ofChat(
                List.of(
                    ChatMessage.system(
                        "You write short, factual maintenance reports for plant operators. Use"
                            + " only the facts given. Never invent readings."),
                    ChatMessage.user(user.toString())),
                limits.nPredict())
            .withSampling(limits.temperature(), limits.seed())
            .withJsonSchema(schema.json());
    GenerationResult r =
        scheduler.submit(request, Priority.BATCH, limits.deadline(), TokenListener.NONE).await();
    JsonNode parsed = schema.parseAndValidate(r.text().strip());
    if (!status.equals(parsed.path("status").asText())) {
      throw new InvalidOutputException(
          "Model output changed the computed status", List.of("status must be " + status));
    }
    ReportContent c =
        new ReportContent(
            f.status(),
            parsed.path("summary").asText().strip(),
            f.anomalies(),
            parsed.path("recommendation").asText().strip());
    requireValid(c);
    return c;
  }

  /** Validates content against the published schema; a failure here is a bug, not model noise. */
  private static void requireValid(ReportContent c) {
    try {
      Published.SCHEMA.validate(Json.mapper().valueToTree(c));
    } catch (InvalidOutputException e) {
      throw new IllegalArgumentException(
          "Report content does not validate against the published schema: " + e.violations(), e);
    }
  }

  private static TimeWindow window(List<SensorWindow> windows) {
    Instant from = null;
    Instant to = null;
    for (SensorWindow w : windows) {
      Instant a = w.samples().get(0).at();
      Instant b = w.latest().at();
      from = from == null || a.isBefore(from) ? a : from;
      to = to == null || b.isAfter(to) ? b : to;
    }
    return new TimeWindow(from, to);
  }

  private static OutputSchema loadPublished() {
    try (InputStream in =
        Protocol.class.getClassLoader().getResourceAsStream(Protocol.SENSOR_REPORT_SCHEMA)) {
      if (in == null) {
        throw new IllegalStateException(
            "The published schema "
                + Protocol.SENSOR_REPORT_SCHEMA
                + " is not on the class path; edgeslm-protocol is missing or too old.");
      }
      return OutputSchema.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
