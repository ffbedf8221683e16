package io.edgeslm.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS files for a private Mosquitto listener (PEM). With {@code requireCertificate} the broker
 * demands a client certificate signed by {@code caFile} (mutual TLS); with {@code
 * useIdentityAsUsername} the certificate's CN becomes the MQTT username that ACL patterns ({@code
 * %u}) see; with {@code useUsernameAsClientId} that username also replaces the client id the client
 * asked for (mosquitto.conf(5), {@code use_username_as_clientid}), so that no client can take over
 * another identity's session by presenting its client id.
 *
 * @param caFile CA certificate(s) that sign client certificates (and usually the server's)
 * @param certFile the broker's certificate
 * @param keyFile the broker's private key
 * @param requireCertificate demand a client certificate
 * @param useIdentityAsUsername use the client certificate CN as the username
 * @param useUsernameAsClientId replace the client id with the username (the CN, with {@code
 *     useIdentityAsUsername})
 */
public record MosquittoTls(
    Path caFile,
    Path certFile,
    Path keyFile,
    boolean requireCertificate,
    boolean useIdentityAsUsername,
    boolean useUsernameAsClientId) {

  /** Without {@code useUsernameAsClientId}: the client id stays the client's choice. */
  public MosquittoTls(
      Path caFile,
      Path certFile,
      Path keyFile,
      boolean requireCertificate,
      boolean useIdentityAsUsername) {
    this(caFile, certFile, keyFile, requireCertificate, useIdentityAsUsername, false);
  }

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
    if (useUsernameAsClientId && !useIdentityAsUsername) {
      throw new IllegalArgumentException(
          "useUsernameAsClientId here needs useIdentityAsUsername: the test kit's brokers have no"
              + " password file, so the certificate's CN is the only user name to bind the client"
              + " id to.");
    }
  }

  /** These settings with the client id bound to the certificate identity. */
  public MosquittoTls withUsernameAsClientId() {
    return new MosquittoTls(caFile, certFile, keyFile, requireCertificate, true, true);
  }
}
