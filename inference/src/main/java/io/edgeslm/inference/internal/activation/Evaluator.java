package io.edgeslm.inference.internal.activation;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.inference.ActivationReport;
import io.edgeslm.inference.EngineUnavailableException;
import io.edgeslm.inference.EvaluationCase;
import io.edgeslm.inference.Generation;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceException;
import io.edgeslm.inference.InvalidOutputException;
import io.edgeslm.inference.OutputSchema;
import io.edgeslm.inference.TokenListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs evaluation cases one by one and scores them. */
public final class Evaluator {
  private Evaluator() {}

  public static ActivationReport run(
      InferenceEngine engine, List<EvaluationCase> cases, double minScore, Duration caseTimeout)
      throws InferenceException {
    List<ActivationReport.Failure> failures = new ArrayList<>();
    int passed = 0;
    for (EvaluationCase c : cases) {
      List<ActivationReport.Failure> caseFailures = new ArrayList<>();
      String output = null;
      Generation g = engine.generate(c.request(), TokenListener.NONE);
      try {
        GenerationResult r = g.result().get(caseTimeout.toMillis(), TimeUnit.MILLISECONDS);
        output = r.text();
      } catch (TimeoutException e) {
        g.cancel();
        caseFailures.add(
            new ActivationReport.Failure(c.id(), "finishes", "no result within " + caseTimeout));
      } catch (ExecutionException e) {
        if (e.getCause() instanceof EngineUnavailableException u) {
          throw u;
        }
        caseFailures.add(
            new ActivationReport.Failure(c.id(), "finishes", String.valueOf(e.getCause())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EngineUnavailableException("Interrupted during the activation check");
      }
      if (output != null) {
        caseFailures.addAll(check(c, output));
      }
      if (caseFailures.isEmpty()) {
        passed++;
      }
      failures.addAll(caseFailures);
    }
    return new ActivationReport(
        (double) passed / cases.size(), passed, cases.size(), minScore, failures);
  }

  /** The expectations {@code output} misses; pure, for tests. */
  public static List<ActivationReport.Failure> check(EvaluationCase c, String output) {
    List<ActivationReport.Failure> f = new ArrayList<>();
    String trimmed = output.strip();
    JsonNode parsed = null;
    boolean wantsJson =
        c.validJson() || c.enumPointer().isPresent() || c.request().jsonSchema() != null;
    if (wantsJson) {
      try {
        OutputSchema schema =
            OutputSchema.of(c.request().jsonSchema() == null ? "{}" : c.request().jsonSchema());
        parsed = schema.parseAndValidate(trimmed);
      } catch (InvalidOutputException e) {
        f.add(new ActivationReport.Failure(c.id(), "valid JSON", e.getMessage()));
      }
    }
    for (String s : c.contains()) {
      if (!output.contains(s)) {
        f.add(
            new ActivationReport.Failure(
                c.id(), "contains '" + s + "'", "output was " + excerpt(output)));
      }
    }
    if (c.enumPointer().isPresent() && parsed != null) {
      JsonNode v = parsed.at(c.enumPointer().get());
      if (!v.isTextual() || !c.enumValues().contains(v.textValue())) {
        f.add(
            new ActivationReport.Failure(
                c.id(),
                "value at " + c.enumPointer().get() + " in " + c.enumValues(),
                "found " + (v.isMissingNode() ? "nothing" : v.toString())));
      }
    }
    if (c.maxChars() > 0 && output.length() > c.maxChars()) {
      f.add(
          new ActivationReport.Failure(
              c.id(), "at most " + c.maxChars() + " characters", "output has " + output.length()));
    }
    return f;
  }

  private static String excerpt(String s) {
    String one = s.replaceAll("\\s+", " ");
    return one.length() <= 80 ? "'" + one + "'" : "'" + one.substring(0, 80) + "...'";
  }
}
