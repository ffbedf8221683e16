package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads {@code docs/asyncapi.yaml} and turns its component schemas into validators. */
final class AsyncApiDocument {

  private static final String DOCUMENT_PROPERTY = "edgeslm.asyncapi.document";
  private static final String SPECS_PROPERTY = "edgeslm.asyncapi.specs";
  private static final String DOCUMENT_URI = "urn:edgeslm:asyncapi";

  private static JsonNode tree;
  private static JsonSchemaFactory factory;

  private AsyncApiDocument() {}

  /** The document as a JSON tree (YAML parsed with Jackson). */
  static synchronized JsonNode tree() throws IOException {
    if (tree == null) {
      Path path = path(DOCUMENT_PROPERTY, "../docs/asyncapi.yaml");
      if (!Files.isRegularFile(path)) {
        fail("The AsyncAPI document is missing at " + path.toAbsolutePath() + ".");
      }
      tree = new ObjectMapper(new YAMLFactory()).readTree(path.toFile());
    }
    return tree;
  }

  /**
   * A validator for the schema at {@code pointer} inside the document (e.g. {@code
   * /components/schemas/Answer}), resolving the document's internal references.
   */
  static JsonSchema schemaAt(String pointer) throws IOException {
    return factory()
        .getSchema(Json.mapper().readTree("{\"$ref\":\"" + DOCUMENT_URI + "#" + pointer + "\"}"));
  }

  private static synchronized JsonSchemaFactory factory() throws IOException {
    if (factory == null) {
      // Only the components: the document's top-level fields (such as its "id") are not schema
      // keywords and would confuse the validator; every $ref points into components anyway.
      String json =
          Json.mapper()
              .writeValueAsString(
                  Json.mapper().createObjectNode().set("components", tree().get("components")));
      factory =
          JsonSchemaFactory.getInstance(
              SpecVersion.VersionFlag.V7,
              builder ->
                  builder.schemaLoaders(
                      loaders -> loaders.schemas(java.util.Map.of(DOCUMENT_URI, json))));
    }
    return factory;
  }

  /**
   * The directory of the npm package {@code @asyncapi/specs}, installed by the Maven build ({@code
   * npm ci} in {@code protocol/src/test/asyncapi}).
   */
  static Path specsPackage() {
    Path dir = path(SPECS_PROPERTY, "src/test/asyncapi/node_modules/@asyncapi/specs");
    if (!Files.isDirectory(dir)) {
      fail(
          "The AsyncAPI JSON schemas are not installed at "
              + dir.toAbsolutePath()
              + ". The Maven build installs them with npm (npm ci in protocol/src/test/asyncapi);"
              + " install npm (Debian/Ubuntu: apt-get install npm) and run"
              + " ./mvnw -B -pl protocol verify.");
    }
    return dir;
  }

  private static Path path(String property, String fallback) {
    String value = System.getProperty(property);
    return Path.of(value == null || value.isBlank() ? fallback : value);
  }
}
