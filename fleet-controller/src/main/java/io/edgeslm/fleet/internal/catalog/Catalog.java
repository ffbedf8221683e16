package io.edgeslm.fleet.internal.catalog;

import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.BundleRejectedException;
import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetNotFoundException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.internal.store.CatalogStore;
import io.edgeslm.fleet.internal.store.Page;
import io.edgeslm.fleet.internal.store.RolloutStore;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.SignedFile;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.VerifiedBundle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bundle catalog: upload with verification against the trust store, list, inspect, delete when
 * no rollout uses a bundle. An upload is assembled in a staging directory, verified there with the
 * model-signing library, hashed chunk by chunk for the assignments, and only then moved into the
 * store and recorded.
 */
public final class Catalog {

  /** The signature file's name in a bundle. */
  public static final String SIGNATURE_FILE = "model.sig";

  /** Largest upload, over all files. */
  public static final long MAX_UPLOAD_BYTES = 64L << 30;

  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]{1,255}");

  private final CatalogStore store;
  private final RolloutStore rollouts;
  private final BundleFiles files;
  private final UploadProgress progress;
  private final BundleVerifier verifier;
  private final int chunkBytes;
  private final Clock clock;

  public Catalog(
      CatalogStore store,
      RolloutStore rollouts,
      BundleFiles files,
      BundleVerifier verifier,
      int chunkBytes,
      Clock clock) {
    this.store = store;
    this.rollouts = rollouts;
    this.files = files;
    this.verifier = verifier;
    this.chunkBytes = chunkBytes;
    this.clock = clock;
    this.progress = new UploadProgress(clock);
  }

  public BundleFiles files() {
    return files;
  }

  /**
   * Verifies and stores an uploaded bundle.
   *
   * @param upload the bundle's files, signature ({@value #SIGNATURE_FILE}) and release.json
   *     included; the spooled files are moved away
   * @param actor the uploader's token name
   * @throws FleetInputException for a malformed upload (bad or duplicate names, too many files)
   * @throws BundleRejectedException if verification fails; the message is the verifier's reason
   * @throws FleetConflictException if the catalog already holds this bundle
   */
  public BundleInfo upload(List<UploadedFile> upload, String actor) throws FleetException {
    return upload(upload, actor, progress.start("local-" + java.util.UUID.randomUUID()));
  }

  /**
   * As {@link #upload(List, String)}, reporting each phase to {@code tracker} (see {@link
   * UploadProgress}).
   */
  public BundleInfo upload(List<UploadedFile> upload, String actor, UploadProgress.Tracker tracker)
      throws FleetException {
    try {
      BundleInfo info = store(upload, actor, tracker);
      tracker.stored(info.bundleId());
      return info;
    } catch (FleetException e) {
      tracker.rejected(e.getMessage());
      throw e;
    }
  }

  /** Server-side progress of uploads. */
  public UploadProgress progress() {
    return progress;
  }

  /** The signed release metadata every bundle carries at its root. */
  static final String RELEASE_FILE = "release.json";

  static final String MISSING_RELEASE =
      "The bundle has no release.json, its signed release metadata (model name, version, channel,"
          + " expiry), so the controller cannot tell what it would roll out. Write it into the"
          + " bundle directory with model-signing's 'release init', sign the bundle again and"
          + " upload all its files.";

  private BundleInfo store(List<UploadedFile> upload, String actor, UploadProgress.Tracker tracker)
      throws FleetException {
    checkNames(upload);
    if (upload.stream().noneMatch(f -> RELEASE_FILE.equals(f.name()))) {
      // Without it the bundle has no signed model name, version or channel; said before the
      // upload is spooled and verified, since no signature can make up for it.
      throw new BundleRejectedException(MISSING_RELEASE);
    }
    Path stage;
    try {
      stage = files.newStagingDir();
    } catch (IOException e) {
      throw new FleetStorageException(
          "Cannot create a staging directory in "
              + files.root()
              + " ("
              + e.getMessage()
              + "). Check free space and permissions of fleet.bundles.dir.",
          e);
    }
    boolean committed = false;
    try {
      long total = 0;
      for (UploadedFile f : upload) {
        Path target = stage.resolve(f.name()).normalize();
        if (!target.startsWith(stage)) {
          throw new FleetInputException("file name '" + f.name() + "' escapes the bundle.");
        }
        Files.createDirectories(target.getParent());
        Files.move(f.path(), target, StandardCopyOption.REPLACE_EXISTING);
        if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new FleetInputException("file '" + f.name() + "' is not a regular file.");
        }
        total += Files.size(target);
        if (total > MAX_UPLOAD_BYTES) {
          throw new FleetInputException(
              "The upload exceeds "
                  + MAX_UPLOAD_BYTES
                  + " bytes. Bundles larger than 64 GiB are not accepted.");
        }
      }
      tracker.total(total);
      tracker.phase(UploadProgress.Phase.VERIFYING);
      VerifiedBundle verified;
      try {
        verified = verifier.verify(stage, BundleOptions.defaults());
      } catch (SigningException e) {
        // The verifier names files by path; show the client bundle-relative names, not the
        // controller's staging directory.
        String reason =
            e.getMessage()
                .replace(stage.toString() + "/", "")
                .replace(stage.toString(), "the uploaded bundle");
        throw new BundleRejectedException(
            "The bundle failed verification against the controller's trust store: " + reason, e);
      }
      ReleaseMetadata release =
          verified.release().orElseThrow(() -> new BundleRejectedException(MISSING_RELEASE));
      String hex = verified.rootDigest().replaceFirst("^sha256:", "");
      ModelRef model =
          new ModelRef(release.model(), release.version(), "sha256:" + hex, release.channel());
      List<BundleFile> bundleFiles = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (SignedFile sf : verified.files()) {
        names.add(sf.name());
      }
      names.add(stage.relativize(verified.signatureFile()).toString().replace('\\', '/'));
      tracker.phase(UploadProgress.Phase.HASHING);
      Set<String> seen = new HashSet<>();
      for (String name : names) {
        if (seen.add(name)) {
          bundleFiles.add(hashFile(stage, name, tracker));
        }
      }
      if (bundleFiles.size() > UpdateAssignment.MAX_FILES) {
        throw new FleetInputException(
            "A bundle may hold at most "
                + UpdateAssignment.MAX_FILES
                + " files for transfer: got "
                + bundleFiles.size()
                + ". Pack auxiliary files together.");
      }
      long chunks = bundleFiles.stream().mapToLong(f -> f.chunks().size()).sum();
      if (chunks > UpdateAssignment.MAX_TOTAL_CHUNKS) {
        throw new FleetInputException(
            "The bundle needs "
                + chunks
                + " chunks of "
                + chunkBytes
                + " bytes, more than an assignment may list ("
                + UpdateAssignment.MAX_TOTAL_CHUNKS
                + "). Raise fleet.bundles.chunk-bytes.");
      }
      String bundleId = bundleId(model);
      byte[] releaseBytes = Files.readAllBytes(stage.resolve("release.json"));
      BundleInfo info =
          new BundleInfo(
              bundleId,
              model,
              bundleFiles.stream().mapToLong(BundleFile::sizeBytes).sum(),
              chunkBytes,
              bundleFiles,
              new String(releaseBytes, StandardCharsets.UTF_8),
              verified.signerKeyIds(),
              actor,
              clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
      if (store.get(bundleId).isPresent()) {
        throw new FleetConflictException(
            "The catalog already holds bundle '" + bundleId + "'. Use the existing entry.");
      }
      files.commit(stage, bundleId);
      committed = true;
      try {
        store.insert(info);
      } catch (FleetException e) {
        files.delete(bundleId);
        throw e;
      }
      return info;
    } catch (IOException e) {
      throw new FleetStorageException(
          "Cannot store the uploaded bundle (" + e.getMessage() + "). Check free space.", e);
    } finally {
      if (!committed) {
        try {
          BundleFiles.deleteTree(stage);
        } catch (IOException ignored) {
          // the next start clears the staging directory
        }
      }
    }
  }

  private void checkNames(List<UploadedFile> upload) throws FleetInputException {
    if (upload.isEmpty()) {
      throw new FleetInputException(
          "The upload holds no files. Send the bundle's files (model, release.json, model.sig) as"
              + " multipart parts named 'file'.");
    }
    if (upload.size() > UpdateAssignment.MAX_FILES) {
      throw new FleetInputException(
          "An upload may hold at most "
              + UpdateAssignment.MAX_FILES
              + " files: got "
              + upload.size()
              + ".");
    }
    Set<String> names = new HashSet<>();
    for (UploadedFile f : upload) {
      String name = f.name();
      boolean ok = name != null && !name.isEmpty() && name.length() <= 1024;
      if (ok) {
        String[] parts = name.split("/", -1);
        ok = parts.length <= 8;
        for (String p : parts) {
          ok &= SEGMENT.matcher(p).matches() && !p.equals(".") && !p.equals("..");
        }
      }
      if (!ok) {
        throw new FleetInputException(
            "File name '"
                + name
                + "' is not a relative bundle path of segments made of A-Z a-z 0-9 . _ -"
                + " (no '..', no absolute paths, at most 8 levels). Rename the file.");
      }
      if (!names.add(name)) {
        throw new FleetInputException(
            "File name '" + name + "' appears twice in the upload. Send each file once.");
      }
    }
  }

  private BundleFile hashFile(Path dir, String name, UploadProgress.Tracker tracker)
      throws IOException {
    MessageDigest whole = sha256();
    MessageDigest chunk = sha256();
    List<String> chunkHashes = new ArrayList<>();
    long size = 0;
    byte[] buf = new byte[64 * 1024];
    int inChunk = 0;
    try (InputStream in = Files.newInputStream(dir.resolve(name))) {
      int n;
      while ((n = in.read(buf)) > 0) {
        int off = 0;
        while (off < n) {
          int take = Math.min(n - off, chunkBytes - inChunk);
          whole.update(buf, off, take);
          chunk.update(buf, off, take);
          inChunk += take;
          off += take;
          if (inChunk == chunkBytes) {
            chunkHashes.add(HexFormat.of().formatHex(chunk.digest()));
            inChunk = 0;
          }
        }
        size += n;
        tracker.hashed(n);
      }
    }
    if (inChunk > 0) {
      chunkHashes.add(HexFormat.of().formatHex(chunk.digest()));
    }
    return new BundleFile(name, size, HexFormat.of().formatHex(whole.digest()), chunkHashes);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  static String bundleId(ModelRef model) {
    return model.name()
        + "-v"
        + model.version()
        + "-"
        + model.digest().substring("sha256:".length(), "sha256:".length() + 12);
  }

  /** Re-chunked bundle descriptions, by bundle id and chunk size; a few, least recently used go. */
  private final Map<String, BundleInfo> rechunked =
      java.util.Collections.synchronizedMap(
          new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, BundleInfo> eldest) {
              return size() > 16;
            }
          });

  /**
   * The bundle described at another chunk size: the same files with their chunk hashes computed at
   * {@code chunkBytes}, for a node whose maximum packet size is below the bundle's chunk size.
   * Reads every file once per size (the result is cached).
   *
   * @throws FleetStorageException if a file cannot be read
   * @throws IllegalArgumentException if a file would have too many chunks at that size
   */
  public BundleInfo withChunkBytes(BundleInfo b, int chunkBytes) throws FleetStorageException {
    if (chunkBytes == b.chunkBytes()) {
      return b;
    }
    String key = b.bundleId() + "@" + chunkBytes;
    BundleInfo cached = rechunked.get(key);
    if (cached != null) {
      return cached;
    }
    List<BundleFile> out = new ArrayList<>();
    try {
      for (BundleFile f : b.files()) {
        out.add(
            BundleFile.fromFile(
                f.name(), files.dir(b.bundleId()).resolve(f.name()).normalize(), chunkBytes));
      }
    } catch (java.io.IOException e) {
      throw new FleetStorageException(
          "Cannot read bundle '"
              + b.bundleId()
              + "' to hash it at "
              + chunkBytes
              + "-byte chunks ("
              + e.getMessage()
              + "). Check the bundle directory "
              + files.dir(b.bundleId())
              + ".",
          e);
    }
    BundleInfo r =
        new BundleInfo(
            b.bundleId(),
            b.model(),
            b.totalBytes(),
            chunkBytes,
            out,
            b.releaseJson(),
            b.signerKeyIds(),
            b.uploadedBy(),
            b.uploadedAt());
    rechunked.put(key, r);
    return r;
  }

  public BundleInfo get(String bundleId) throws FleetException {
    return store
        .get(bundleId)
        .orElseThrow(
            () ->
                new FleetNotFoundException(
                    "No bundle '"
                        + bundleId
                        + "' in the catalog. List bundles with GET /api/v1/bundles."));
  }

  public Page<BundleInfo> list(String after, int limit) throws FleetException {
    return store.list(after, limit);
  }

  /**
   * Deletes a bundle no rollout references.
   *
   * @throws FleetConflictException if a rollout references it
   */
  public void delete(String bundleId) throws FleetException {
    get(bundleId);
    if (rollouts.usesBundle(bundleId)) {
      throw new FleetConflictException(
          "Bundle '"
              + bundleId
              + "' is used by a rollout and cannot be deleted. Delete only bundles no rollout"
              + " references.");
    }
    store.delete(bundleId);
    try {
      files.delete(bundleId);
    } catch (IOException e) {
      throw new FleetStorageException(
          "Bundle '"
              + bundleId
              + "' was removed from the catalog but its files could not be deleted ("
              + e.getMessage()
              + "). Delete "
              + files.dir(bundleId)
              + " by hand.",
          e);
    }
  }
}
