package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The activation check on a real model on each engine, from an evaluation file as a bundle would
 * carry it.
 */
@ParameterizedClass
@EnumSource(Backend.class)
class ActivationCheckIT {
  @Parameter Backend backend;

  static final String FILE =
      """
      {
        "schemaVersion": 1,
        "minScore": 0.5,
        "cases": [
          {
            "id": "status-json",
            "messages": [{"role": "user", "content": "Give the plant status as JSON."}],
            "nPredict": 200,
            "jsonSchema": {
              "type": "object", "additionalProperties": false, "required": ["status"],
              "properties": {"status": {"type": "string", "enum": ["ok", "warning", "critical"]}}
            },
            "expect": {"validJson": true,
                       "enum": {"pointer": "/status", "values": ["ok", "warning", "critical"]}}
          },
          {
            "id": "yes-no",
            "prompt": "Is the pump running? Answer yes or no:",
            "nPredict": 4,
            "grammar": "root ::= (\\"yes\\" | \\"no\\")",
            "expect": {"maxChars": 3}
          },
          {
            "id": "mentions-value",
            "prompt": "Press 3 oil temperature is 71.2 C. Repeat the value:",
            "nPredict": 8,
            "expect": {"contains": ["71.2"]}
          }
        ]
      }
      """;

  @Test
  void run_scoresEveryCase_andReportsTheFailures() throws Exception {
    ActivationCheck check = ActivationCheck.parse(FILE);
    try (InferenceEngine engine = InferenceEngines.open(backend.config(), TestModels.tinySpec())) {
      ActivationReport report = check.run(engine);

      // Constrained cases pass on any model; a noise model cannot repeat the value.
      assertThat(report.total()).isEqualTo(3);
      assertThat(report.passed()).isEqualTo(2);
      assertThat(report.score()).isEqualTo(2.0 / 3);
      assertThat(report.failures())
          .singleElement()
          .satisfies(
              f -> {
                assertThat(f.caseId()).isEqualTo("mentions-value");
                assertThat(f.expectation()).isEqualTo("contains '71.2'");
              });
      assertThat(report.passing()).isTrue();
      report.requirePassing();
    }
  }
}
