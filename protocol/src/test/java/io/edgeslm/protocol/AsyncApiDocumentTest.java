package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Validates {@code docs/asyncapi.yaml} against the official AsyncAPI 3.0.0 JSON Schema from the npm
 * package {@code @asyncapi/specs} (version pinned in {@code src/test/asyncapi/package-lock.json}).
 */
class AsyncApiDocumentTest {

  private static JsonSchema asyncApi300() throws Exception {
    Path schema = AsyncApiDocument.specsPackage().resolve("schemas/3.0.0-without-$id.json");
    assertThat(schema).as("AsyncAPI 3.0.0 schema in @asyncapi/specs").isRegularFile();
    try (InputStream in = Files.newInputStream(schema)) {
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(in);
    }
  }

  @Test
  void document_isValidAsyncApi300() throws Exception {
    JsonNode document = AsyncApiDocument.tree();

    Set<ValidationMessage> errors = asyncApi300().validate(document);

    assertThat(document.path("asyncapi").asText()).isEqualTo("3.0.0");
    assertThat(errors).as("AsyncAPI 3.0.0 schema violations in docs/asyncapi.yaml").isEmpty();
  }

  @Test
  void validator_rejectsABrokenDocument() throws Exception {
    // Guards against a validator that accepts everything: drop a required field, misspell an
    // operation action and put an impossible QoS deep in a binding; the schema must flag each.
    var broken = AsyncApiDocument.tree().deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.get("info")).remove("title");
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken.at("/operations/publishReport"))
        .put("action", "publish");
    ((com.fasterxml.jackson.databind.node.ObjectNode)
            broken.at("/operations/publishHealth/bindings/mqtt"))
        .put("qos", 3);

    Set<ValidationMessage> errors = asyncApi300().validate(broken);

    assertThat(errors)
        .extracting(ValidationMessage::getMessage)
        .anySatisfy(m -> assertThat(m).contains("title"))
        .anySatisfy(m -> assertThat(m).contains("action"))
        .anySatisfy(m -> assertThat(m).contains("qos"));
  }
}
