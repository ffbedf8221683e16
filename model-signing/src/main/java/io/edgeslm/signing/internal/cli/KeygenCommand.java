package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Create an ECDSA key pair: the private key as unencrypted PKCS#8 PEM readable only by its"
          + " owner (mode 0600), the public key as SubjectPublicKeyInfo PEM. Existing files are"
          + " never overwritten. Keep the private key offline."
    })
final class KeygenCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--curve",
      defaultValue = "p256",
      paramLabel = "p256|p384",
      description = "Curve: p256 (default, SHA-256) or p384 (SHA-384).")
  String curve;

  @Option(names = "--private-key", required = true, paramLabel = "FILE")
  Path privateKey;

  @Option(names = "--public-key", required = true, paramLabel = "FILE")
  Path publicKey;

  @Override
  public Integer call() throws Exception {
    SigningKey key = SigningKey.generate(KeyCurve.fromName(curve));
    key.writePrivateKey(privateKey);
    key.writePublicKey(publicKey);
    spec.commandLine()
        .getOut()
        .printf(
            "Wrote %s private key %s (owner-only) and public key %s; key id %s%n",
            key.curve(), privateKey, publicKey, key.verificationKey().keyId());
    return CliSupport.OK;
  }
}
