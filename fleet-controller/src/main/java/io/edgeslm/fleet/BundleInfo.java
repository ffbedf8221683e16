package io.edgeslm.fleet;

import io.edgeslm.fleet.internal.check.Checks;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ModelRef;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A verified bundle in the catalog.
 *
 * @param bundleId catalog id, {@code {model}-v{version}-{first 12 hex digits of the digest}}
 * @param model name, version, channel and digest, from the signed release.json and statement
 * @param totalBytes sum of the file sizes
 * @param chunkBytes chunk size of the per-chunk hashes in {@code files}
 * @param files every signed file with its whole-file and per-chunk SHA-256
 * @param releaseJson the signed release.json text
 * @param signerKeyIds trusted keys whose signatures verified
 * @param uploadedBy token name of the uploader
 * @param uploadedAt when
 */
public record BundleInfo(
    String bundleId,
    ModelRef model,
    long totalBytes,
    int chunkBytes,
    List<BundleFile> files,
    String releaseJson,
    Set<String> signerKeyIds,
    String uploadedBy,
    Instant uploadedAt) {

  public BundleInfo {
    Checks.identifier("bundleId", bundleId, 128);
    Checks.required("model", model);
    files = List.copyOf(files);
    signerKeyIds = Set.copyOf(signerKeyIds);
    Checks.required("uploadedAt", uploadedAt);
  }
}
