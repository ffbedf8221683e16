package io.edgeslm.protocol;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgeslm.protocol.internal.check.Checks;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The controller tells a node to install a bundle; published retained (QoS 1) on {@code
 * edge/v1/{site}/{node}/update/assignment} so a node that was offline finds it on reconnect. The
 * node checks it against its own facts and pinned policy (a retained assignment is not trusted: the
 * signed {@code release.json} decides), pulls the chunks it is missing with {@link ChunkRequest}s
 * on {@code requestTopic}, and reports {@link UpdateProgress} and an {@link UpdateResult}.
 *
 * @param schemaVersion {@link Protocol#SCHEMA_VERSION}
 * @param assignmentId unique per node and bundle; every later message about it repeats it
 * @param rolloutId the rollout this belongs to; optional
 * @param bundleId the controller catalog's bundle id
 * @param model name, version, channel and digest of the bundle, as its release.json and signature
 *     state them
 * @param totalBytes sum of the files' sizes
 * @param chunkBytes chunk size, {@value #MIN_CHUNK_BYTES} to {@value #MAX_CHUNK_BYTES}; the
 *     controller keeps it below the broker's and the node's maximum packet size
 * @param files the bundle's files (1 to {@value #MAX_FILES}), each with its chunk hashes
 * @param requestTopic where the node publishes its {@link ChunkRequest}s
 * @param issuedAt when the controller issued it
 * @param baseModelDigest for a LoRA adapter bundle, the digest of the base model its signed
 *     release.json names ({@code sha256:} and 64 lowercase hex digits), so that a node serving
 *     another base refuses it before fetching a byte; absent for a model bundle. Only a hint: the
 *     node decides on the signed release once the bundle is here.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateAssignment(
    @JsonProperty(required = true) int schemaVersion,
    String assignmentId,
    String rolloutId,
    String bundleId,
    ModelRef model,
    @JsonProperty(required = true) long totalBytes,
    @JsonProperty(required = true) int chunkBytes,
    List<BundleFile> files,
    String requestTopic,
    Instant issuedAt,
    String baseModelDigest) {

  /** Smallest chunk size: 4 KiB. */
  public static final int MIN_CHUNK_BYTES = 4096;

  /** Largest chunk size: 16 MiB. */
  public static final int MAX_CHUNK_BYTES = 16 << 20;

  /** Default chunk size: 256 KiB, below every common broker's packet limit except AWS IoT's. */
  public static final int DEFAULT_CHUNK_BYTES = 256 << 10;

  /** Most files in a bundle. */
  public static final int MAX_FILES = 64;

  /** Most chunks over all files; bounds the assignment to a few MiB of JSON. */
  public static final int MAX_TOTAL_CHUNKS = 65_536;

  /** Read limit for assignment payloads: {@value} bytes (about 70 bytes per chunk hash). */
  public static final int MAX_PAYLOAD_BYTES = 8 << 20;

  public UpdateAssignment {
    Checks.schemaVersion("UpdateAssignment", schemaVersion, Protocol.SCHEMA_VERSION);
    Checks.identifier("assignmentId", assignmentId, 128);
    Checks.optionalIdentifier("rolloutId", rolloutId, 128);
    Checks.identifier("bundleId", bundleId, 128);
    Checks.required("model", model);
    Checks.range("chunkBytes", chunkBytes, MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
    files = Checks.nonEmptyList("files", files, MAX_FILES);
    Set<String> names = new HashSet<>();
    long sum = 0;
    long chunkTotal = 0;
    for (BundleFile f : files) {
      Checks.check(
          names.add(f.name()),
          "files must not repeat a name: "
              + Checks.quote(f.name())
              + " appears twice. List each bundle file once.");
      long expected = BundleFile.chunkCount(f.sizeBytes(), chunkBytes);
      Checks.check(
          f.chunks().size() == expected,
          "file "
              + Checks.quote(f.name())
              + " of "
              + f.sizeBytes()
              + " bytes must list "
              + expected
              + " chunk hashes at chunkBytes="
              + chunkBytes
              + ": got "
              + f.chunks().size()
              + ". Recompute the chunk hashes with this chunk size.");
      sum = Math.addExact(sum, f.sizeBytes());
      chunkTotal += f.chunks().size();
    }
    Checks.check(
        chunkTotal <= MAX_TOTAL_CHUNKS,
        "an assignment may list at most "
            + MAX_TOTAL_CHUNKS
            + " chunks: got "
            + chunkTotal
            + ". Use a larger chunkBytes.");
    Checks.check(
        totalBytes == sum,
        "totalBytes must equal the sum of the file sizes: got totalBytes="
            + totalBytes
            + ", sum="
            + sum
            + ". Recompute totalBytes.");
    Checks.publishTopic("requestTopic", requestTopic);
    Checks.required("issuedAt", issuedAt);
    if (baseModelDigest != null) {
      Checks.digest("baseModelDigest", baseModelDigest);
    }
  }

  /** An assignment of a model bundle (no base model). */
  public UpdateAssignment(
      int schemaVersion,
      String assignmentId,
      String rolloutId,
      String bundleId,
      ModelRef model,
      long totalBytes,
      int chunkBytes,
      List<BundleFile> files,
      String requestTopic,
      Instant issuedAt) {
    this(
        schemaVersion,
        assignmentId,
        rolloutId,
        bundleId,
        model,
        totalBytes,
        chunkBytes,
        files,
        requestTopic,
        issuedAt,
        null);
  }

  /** Whether this assigns a LoRA adapter (it names the base model it applies to). */
  @JsonIgnore
  public boolean isAdapter() {
    return baseModelDigest != null;
  }

  /** The file named {@code name}, if listed. */
  public Optional<BundleFile> file(String name) {
    return files.stream().filter(f -> f.name().equals(name)).findFirst();
  }
}
