package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a failed activation check's exception says: never the model's own output. */
class ActivationReportTest {

  @Test
  void requirePassing_modelOutputWithAControlCharacter_isLeftOutOfTheMessage() {
    // A model that fails its check may answer anything: here U+0002, a line break and a forged
    // log line. The case ids and expectations come from the signed evaluation file.
    ActivationReport r =
        new ActivationReport(
            0.25,
            1,
            4,
            0.8,
            List.of(
                new ActivationReport.Failure(
                    "greeting", "contains 'hello'", "output was 'ok\u0002\nverified: forged'"),
                new ActivationReport.Failure("units", "matches '[0-9]+ bar'", "\u001b[2J"),
                new ActivationReport.Failure("json", "valid JSON", "{"),
                new ActivationReport.Failure("refusal", "contains 'cannot'", "sure")));

    assertThatThrownBy(r::requirePassing)
        .isInstanceOf(ActivationFailedException.class)
        .hasMessage(
            "The model scored 0.25 (1 of 4 cases) in its activation check, below the required"
                + " 0.80; it does not take traffic. Failed cases: greeting (contains 'hello');"
                + " units (matches '[0-9]+ bar'); json (valid JSON); and 1 more. Check the model"
                + " and its evaluation file.")
        .satisfies(e -> assertThat(((ActivationFailedException) e).report()).isSameAs(r));
  }

  @Test
  void requirePassing_aControlCharacterInACaseId_isEscaped() {
    ActivationReport r =
        new ActivationReport(
            0.0, 0, 1, 0.5, List.of(new ActivationReport.Failure("a\u0002b", "finishes", "x")));

    assertThatThrownBy(r::requirePassing)
        .hasMessageContaining("Failed cases: a\\u0002b (finishes).")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u0002"));
  }

  @Test
  void requirePassing_atTheRequiredScore_returns() throws Exception {
    new ActivationReport(0.5, 1, 2, 0.5, List.of()).requirePassing();
  }
}
