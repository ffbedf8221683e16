package io.edgeslm.testkit;

import java.nio.file.Path;
import java.util.Objects;
import javax.net.ssl.SSLSocketFactory;

/**
 * A client certificate issued by {@link TestPki}, as files (for command-line clients such as {@code
 * mosquitto_pub --cert/--key}) and as a ready socket factory (for Paho's {@code
 * MqttConnectionOptions.setSocketFactory}) that presents the certificate and trusts the test CA.
 *
 * @param commonName the certificate's CN (with {@code use_identity_as_username}, the MQTT username)
 * @param certificate PEM certificate
 * @param privateKey PEM private key (PKCS#8)
 * @param socketFactory TLS socket factory with this identity and the test CA as the only trust
 */
public record TlsClientIdentity(
    String commonName, Path certificate, Path privateKey, SSLSocketFactory socketFactory) {
  public TlsClientIdentity {
    Objects.requireNonNull(commonName, "commonName");
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(socketFactory, "socketFactory");
  }
}
