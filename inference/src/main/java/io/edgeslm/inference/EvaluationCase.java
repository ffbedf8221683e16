package io.edgeslm.inference;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One prompt of an activation check and the properties its output must have. The file format is
 * described in docs/inference.md ("Activation check").
 *
 * @param id unique within the file, 1..64 characters
 * @param request what to generate (raw prompt or chat; {@code jsonSchema} constrains sampling)
 * @param validJson the output must parse as JSON (and validate against the schema, if any)
 * @param contains strings the output must contain (case-sensitive), at most 8
 * @param enumPointer JSON pointer into the parsed output whose value must be one of {@code
 *     enumValues}; implies {@code validJson}
 * @param enumValues the allowed values for {@code enumPointer}
 * @param maxChars longest acceptable output, or 0 for no bound
 */
public record EvaluationCase(
    String id,
    GenerationRequest request,
    boolean validJson,
    List<String> contains,
    Optional<String> enumPointer,
    List<String> enumValues,
    int maxChars) {

  public EvaluationCase {
    Objects.requireNonNull(id, "id");
    if (id.isEmpty() || id.length() > 64) {
      throw new IllegalArgumentException("Case id must have 1..64 characters, got '" + id + "'");
    }
    Objects.requireNonNull(request, "request");
    contains = List.copyOf(contains);
    if (contains.size() > 8) {
      throw new IllegalArgumentException(
          "Case '" + id + "': at most 8 'contains' strings, got " + contains.size());
    }
    Objects.requireNonNull(enumPointer, "enumPointer");
    enumValues = List.copyOf(enumValues);
    if (enumPointer.isPresent() && (enumValues.isEmpty() || enumValues.size() > 256)) {
      throw new IllegalArgumentException(
          "Case '" + id + "': an enum expectation needs 1..256 values");
    }
    if (maxChars < 0) {
      throw new IllegalArgumentException("Case '" + id + "': maxChars must be >= 0");
    }
  }
}
