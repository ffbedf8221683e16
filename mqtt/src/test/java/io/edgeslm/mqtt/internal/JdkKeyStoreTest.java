package io.edgeslm.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.mqtt.MqttConfigurationException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdkKeyStoreTest {

  @TempDir Path tmp;

  @Test
  void noKeyStoreProperty_presentsNoClientCertificate() throws Exception {
    assertThat(JdkKeyStore.fromSystemProperties(new Properties())).isEmpty();
  }

  @Test
  void keyStoreProperty_isReadWithItsTypeAndPassword() throws Exception {
    Path file = tmp.resolve("controller-0.p12");
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    try (OutputStream out = Files.newOutputStream(file)) {
      store.store(out, "secret".toCharArray());
    }
    Properties p = new Properties();
    p.setProperty("javax.net.ssl.keyStore", file.toString());
    p.setProperty("javax.net.ssl.keyStoreType", "PKCS12");
    p.setProperty("javax.net.ssl.keyStorePassword", "secret");

    assertThat(JdkKeyStore.fromSystemProperties(p)).isPresent();
  }

  @Test
  void missingKeyStoreFile_failsNamingThePropertyAndTheFile() {
    Path file = tmp.resolve("absent.p12");
    Properties p = new Properties();
    p.setProperty("javax.net.ssl.keyStore", file.toString());
    p.setProperty("javax.net.ssl.keyStoreType", "PKCS12");

    assertThatThrownBy(() -> JdkKeyStore.fromSystemProperties(p))
        .isInstanceOf(MqttConfigurationException.class)
        .hasMessageStartingWith(
            "Cannot read the client certificate named by javax.net.ssl.keyStore='"
                + file
                + "' (type PKCS12): ")
        .hasMessageEndingWith(
            ". Fix the file, javax.net.ssl.keyStoreType or javax.net.ssl.keyStorePassword.");
  }
}
