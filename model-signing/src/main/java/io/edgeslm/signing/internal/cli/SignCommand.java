package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleSigner;
import io.edgeslm.signing.SignedBundle;
import io.edgeslm.signing.SigningKey;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "sign",
    mixinStandardHelpOptions = true,
    description = {
      "Sign every regular file of MODEL_DIR (SHA-256 each) and write an OMS v1.0 signature"
          + " (a Sigstore bundle with a DSSE-signed in-toto statement). Links and special files"
          + " are refused. A release.json in MODEL_DIR must be valid (see 'release init')."
    })
final class SignCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--private-key",
      required = true,
      paramLabel = "FILE",
      description = "PKCS#8 PEM private key. Repeat to add signatures for a release threshold.")
  List<Path> privateKeys;

  @Option(
      names = "--signature",
      paramLabel = "FILE",
      description = "Where to write the signature (default MODEL_DIR/model.sig).")
  Path signature;

  @Option(
      names = "--ignore-paths",
      paramLabel = "P",
      description =
          "A file or folder not to sign (path inside MODEL_DIR, or a name relative to it)."
              + " Repeat for several. .git* and the signature file are always ignored.")
  List<String> ignorePaths = new ArrayList<>();

  @Parameters(paramLabel = "MODEL_DIR", description = "The model directory.")
  Path modelDir;

  @Override
  public Integer call() throws Exception {
    List<SigningKey> keys = new ArrayList<>();
    for (Path p : privateKeys) {
      keys.add(SigningKey.read(p));
    }
    CliSupport.StderrProgress progress = new CliSupport.StderrProgress(spec.commandLine().getErr());
    BundleOptions options =
        BundleOptions.defaults()
            .withSignatureFile(signature)
            .withIgnorePaths(CliSupport.ignoreNames(modelDir, ignorePaths))
            .withProgress(progress);
    SignedBundle b = BundleSigner.of(keys).sign(modelDir, options);
    spec.commandLine()
        .getOut()
        .printf(
            "Signed %s: %d files, %s, root sha256:%s, key(s) %s -> %s%n",
            modelDir,
            b.files().size(),
            CliSupport.bytes(b.totalBytes()),
            b.rootDigest(),
            String.join(", ", b.signerKeyIds()),
            b.signatureFile());
    return CliSupport.OK;
  }
}
