package io.edgeslm.mqtt;

import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for a connection. With neither factory the JDK's defaults are used as its own sockets use
 * them: the trust store of {@code javax.net.ssl.trustStore} (or the JDK's CAs) and, for mTLS, the
 * client certificate of {@code javax.net.ssl.keyStore} if that is set (none otherwise); a key
 * manager factory gives the client certificate explicitly (mTLS); a trust manager factory replaces
 * the JDK's trust with the broker's CA. The broker's host name is verified against its certificate
 * (RFC 6125) unless the CA is private and the caller set {@code verifyHostname} false.
 *
 * @param keyManagers the client certificate and key, for mutual TLS
 * @param trustManagers the CAs trusted for the broker's certificate
 * @param verifyHostname whether the broker certificate must name the host connected to
 */
public record TlsOptions(
    Optional<KeyManagerFactory> keyManagers,
    Optional<TrustManagerFactory> trustManagers,
    boolean verifyHostname) {

  public TlsOptions {
    Objects.requireNonNull(keyManagers, "keyManagers");
    Objects.requireNonNull(trustManagers, "trustManagers");
  }

  /**
   * The JDK's trust and the JDK's client certificate ({@code javax.net.ssl.*} system properties),
   * host names verified.
   */
  public static TlsOptions jdkDefaults() {
    return new TlsOptions(Optional.empty(), Optional.empty(), true);
  }

  /** Mutual TLS: this client certificate, this CA, host names verified. */
  public static TlsOptions mutual(KeyManagerFactory keys, TrustManagerFactory trust) {
    return new TlsOptions(Optional.of(keys), Optional.of(trust), true);
  }
}
