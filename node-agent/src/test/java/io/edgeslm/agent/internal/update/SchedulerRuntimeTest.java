package io.edgeslm.agent.internal.update;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.inference.ActivationReport;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a failed activation check says about the model: never the model's own output. */
class SchedulerRuntimeTest {

  @Test
  void activationFailure_modelOutputWithControlCharacters_isLeftOutOfTheReason() {
    // A model that fails its check may answer anything: here U+0002, a line break and a forged
    // journal line.
    ActivationReport r =
        new ActivationReport(
            0.25,
            1,
            4,
            0.8,
            List.of(
                new ActivationReport.Failure(
                    "greeting", "contains 'hello'", "ok\u0002\nverified: forged"),
                new ActivationReport.Failure("units", "matches '[0-9]+ bar'", "\u001b[2J"),
                new ActivationReport.Failure("json", "valid JSON", "{"),
                new ActivationReport.Failure("refusal", "contains 'cannot'", "sure")));

    String reason = SchedulerRuntime.activationFailure(r);

    assertThat(reason)
        .isEqualTo(
            "The new model failed its activation check: it scored 0.25 (1 of 4 cases), below the"
                + " required 0.80; it does not take traffic. Failed cases: greeting (contains"
                + " 'hello'); units (matches '[0-9]+ bar'); json (valid JSON); and 1 more. Check"
                + " the model and its evaluation file.");
  }
}
