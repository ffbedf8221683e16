package io.edgeslm.mqtt.internal;

import io.edgeslm.mqtt.MqttConfigurationException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import java.util.Properties;
import javax.net.ssl.KeyManagerFactory;

/**
 * The client certificate the JDK's own default TLS context would present: the key store named by
 * the {@code javax.net.ssl.keyStore} system property. The HiveMQ client builds its TLS context from
 * the factories it is given and, given no key manager, sends no certificate; the JDK's sockets (and
 * so Paho, which the controller used before) read these properties. Deployments that configure the
 * client certificate as JVM options (the controller's StatefulSet does) keep working this way.
 */
final class JdkKeyStore {

  private JdkKeyStore() {}

  /**
   * Reads the key store named by {@code javax.net.ssl.keyStore}, with {@code keyStoreType}
   * (default: the JDK's default type) and {@code keyStorePassword} (default: none).
   *
   * @return empty if the property is not set
   * @throws MqttConfigurationException if the store cannot be read or opened; the message names the
   *     property and the file
   */
  static Optional<KeyManagerFactory> fromSystemProperties(Properties p)
      throws MqttConfigurationException {
    String file = p.getProperty("javax.net.ssl.keyStore", "");
    if (file.isBlank() || file.equals("NONE")) {
      return Optional.empty();
    }
    String type = p.getProperty("javax.net.ssl.keyStoreType", KeyStore.getDefaultType());
    String pw = p.getProperty("javax.net.ssl.keyStorePassword");
    char[] password = pw == null ? null : pw.toCharArray();
    try (InputStream in = Files.newInputStream(Path.of(file))) {
      KeyStore store = KeyStore.getInstance(type);
      store.load(in, password);
      KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      f.init(store, password);
      return Optional.of(f);
    } catch (IOException | GeneralSecurityException e) {
      throw new MqttConfigurationException(
          "Cannot read the client certificate named by javax.net.ssl.keyStore='"
              + file
              + "' (type "
              + type
              + "): "
              + e.getMessage()
              + ". Fix the file, javax.net.ssl.keyStoreType or javax.net.ssl.keyStorePassword.",
          e);
    }
  }
}
