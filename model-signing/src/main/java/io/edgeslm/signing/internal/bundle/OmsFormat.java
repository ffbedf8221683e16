package io.edgeslm.signing.internal.bundle;

import java.util.List;

/** Constants of OMS v1.0 (ossf/model-signing-spec, spec/v1.0.md) and the Sigstore bundle. */
public final class OmsFormat {
  private OmsFormat() {}

  public static final String BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

  /** The same version in the newer media-type spelling that sigstore clients also accept. */
  public static final String BUNDLE_MEDIA_TYPE_ALT =
      "application/vnd.dev.sigstore.bundle+json;version=0.3";

  public static final String PAYLOAD_TYPE = "application/vnd.in-toto+json";
  public static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
  public static final String PREDICATE_TYPE = "https://model_signing/signature/v1.0";
  public static final String METHOD_FILES = "files";
  public static final String HASH_SHA256 = "sha256";
  public static final String DEFAULT_SIGNATURE_NAME = "model.sig";
  public static final String RELEASE_FILE = "release.json";

  /** What the reference tool ignores by default besides the signature file. */
  public static final List<String> DEFAULT_IGNORE_PATHS =
      List.of(".git", ".gitattributes", ".github", ".gitignore");
}
