package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OutputSchemaTest {
  static final String SCHEMA =
      """
      {"type":"object","additionalProperties":false,"required":["status","note"],
       "properties":{"status":{"type":"string","enum":["ok","warning","critical"]},
                     "note":{"type":"string","minLength":1,"maxLength":20}}}
      """;

  @Test
  void parseAndValidate_conformingOutput_returnsTree() throws Exception {
    var node = OutputSchema.of(SCHEMA).parseAndValidate("{\"status\":\"ok\",\"note\":\"fine\"}");
    assertThat(node.path("status").asText()).isEqualTo("ok");
  }

  @Test
  void parseAndValidate_truncatedJson_isInvalidOutput() {
    assertThatThrownBy(() -> OutputSchema.of(SCHEMA).parseAndValidate("{\"status\":\"o"))
        .isInstanceOf(InvalidOutputException.class)
        .hasMessageStartingWith("Model output is not valid JSON");
  }

  @Test
  void parseAndValidate_trailingText_isInvalidOutput() {
    assertThatThrownBy(
            () ->
                OutputSchema.of(SCHEMA)
                    .parseAndValidate("{\"status\":\"ok\",\"note\":\"a\"} and more"))
        .isInstanceOf(InvalidOutputException.class);
  }

  @Test
  void restrictEnum_outsideAllowlist_isRejected_andSchemaTextCarriesIt() {
    OutputSchema narrowed =
        OutputSchema.of(SCHEMA).restrictEnum("/properties/status", List.of("ok"));

    assertThat(narrowed.json()).contains("\"enum\":[\"ok\"]");
    assertThatThrownBy(() -> narrowed.parseAndValidate("{\"status\":\"warning\",\"note\":\"x\"}"))
        .isInstanceOf(InvalidOutputException.class)
        .satisfies(
            e ->
                assertThat(((InvalidOutputException) e).violations())
                    .anyMatch(v -> v.contains("status")));
  }

  @Test
  void restrictEnum_unknownPointer_namesIt() {
    assertThatThrownBy(() -> OutputSchema.of(SCHEMA).restrictEnum("/properties/nope", List.of("a")))
        .hasMessage("No subschema at '/properties/nope' in the schema; check the JSON pointer.");
  }

  @Test
  void of_remoteRef_isRefused() {
    assertThatThrownBy(() -> OutputSchema.of("{\"$ref\":\"https://example.org/s.json\"}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Only local $ref");
  }
}
