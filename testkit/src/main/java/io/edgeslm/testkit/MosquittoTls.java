package io.edgeslm.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS files for a private Mosquitto listener (PEM). With {@code requireCertificate} the broker
 * demands a client certificate signed by {@code caFile} (mutual TLS); with {@code
 * useIdentityAsUsername} the certificate's CN becomes the MQTT username that ACL patterns ({@code
 * %u}) see.
 *
 * @param caFile CA certificate(s) that sign client certificates (and usually the server's)
 * @param certFile the broker's certificate
 * @param keyFile the broker's private key
 * @param requireCertificate demand a client certificate
 * @param useIdentityAsUsername use the client certificate CN as the username
 */
public record MosquittoTls(
    Path caFile,
    Path certFile,
    Path keyFile,
    boolean requireCertificate,
    boolean useIdentityAsUsername) {
  public MosquittoTls {
    for (Path p : new Path[] {caFile, certFile, keyFile}) {
      Objects.requireNonNull(p, "TLS file");
      if (!Files.isReadable(p)) {
        throw new IllegalArgumentException(
            "TLS file '"
                + p
                + "' is not readable. Create it (e.g. with openssl) before the broker.");
      }
    }
    caFile = caFile.toAbsolutePath();
    certFile = certFile.toAbsolutePath();
    keyFile = keyFile.toAbsolutePath();
    if (useIdentityAsUsername && !requireCertificate) {
      throw new IllegalArgumentException(
          "useIdentityAsUsername needs requireCertificate: without a client certificate there is"
              + " no identity to use.");
    }
  }
}
