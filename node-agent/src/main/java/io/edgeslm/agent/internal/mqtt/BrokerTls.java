package io.edgeslm.agent.internal.mqtt;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.mqtt.TlsOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS options of the broker connection from the agent's configuration: the node's identity as a
 * PEM certificate and key (what a plant PKI or {@code openssl} hands out) or a PKCS#12 key store,
 * and the broker's CA as PEM or a PKCS#12 trust store (else the JDK's default trust). The MQTT
 * layer takes key and trust manager factories ({@link TlsOptions}); reading the agent's files into
 * them is the agent's part.
 */
public final class BrokerTls {

  private static final Pattern PEM_KEY =
      Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

  /** Largest PEM file read; certificates and keys are a few kB. */
  private static final long MAX_PEM_BYTES = 1 << 20;

  private BrokerTls() {}

  /**
   * The TLS options the broker settings ask for, or empty when no TLS key is set (then the URI's
   * scheme decides: {@code ssl://} uses the JDK's defaults). The broker's host name is checked
   * against its certificate.
   *
   * @throws AgentConfigException naming the key whose file cannot be used
   */
  public static Optional<TlsOptions> options(AgentConfig.Connection b) throws AgentConfigException {
    return options("edgeslm.agent.broker", b);
  }

  /**
   * As {@link #options(AgentConfig.Connection)} for the broker whose keys start with {@code prefix}
   * ({@code edgeslm.agent.broker} or {@code edgeslm.agent.fleet.broker}).
   *
   * @throws AgentConfigException naming the key whose file cannot be used
   */
  public static Optional<TlsOptions> options(String prefix, AgentConfig.Connection b)
      throws AgentConfigException {
    Optional<Managers> m = managers(prefix, b);
    return m.map(x -> new TlsOptions(x.keys(), x.trust(), true));
  }

  /** Key and trust managers; empty optionals inside mean the JDK's defaults. */
  record Managers(Optional<KeyManagerFactory> keys, Optional<TrustManagerFactory> trust) {}

  /**
   * The key and trust managers the broker settings ask for, or empty when no TLS key is set.
   *
   * @throws AgentConfigException naming the key whose file cannot be used
   */
  static Optional<Managers> managers(AgentConfig.Connection b) throws AgentConfigException {
    return managers("edgeslm.agent.broker", b);
  }

  private static Optional<Managers> managers(String prefix, AgentConfig.Connection b)
      throws AgentConfigException {
    boolean any =
        b.tlsCertificate().isPresent()
            || b.tlsKeyStore().isPresent()
            || b.tlsCa().isPresent()
            || b.tlsTrustStore().isPresent();
    if (!any) {
      return Optional.empty();
    }
    KeyManagerFactory kmf = null;
    TrustManagerFactory tmf = null;
    String key = prefix + ".tls.certificate";
    try {
      if (b.tlsCertificate().isPresent()) {
        key = prefix + ".tls.private-key";
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        List<Certificate> chain = certificates(Path.of(b.tlsCertificate().get()));
        PrivateKey pk = privateKey(Path.of(b.tlsPrivateKey().orElseThrow()));
        ks.setKeyEntry("node", pk, new char[0], chain.toArray(Certificate[]::new));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
      } else if (b.tlsKeyStore().isPresent()) {
        key = prefix + ".tls.key-store";
        KeyStore ks = pkcs12(b.tlsKeyStore().get(), b.tlsKeyStorePassword());
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, b.tlsKeyStorePassword().orElse("").toCharArray());
      }
      if (b.tlsCa().isPresent()) {
        key = prefix + ".tls.ca";
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int i = 0;
        for (Certificate c : certificates(Path.of(b.tlsCa().get()))) {
          ts.setCertificateEntry("ca-" + i++, c);
        }
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
      } else if (b.tlsTrustStore().isPresent()) {
        key = prefix + ".tls.trust-store";
        KeyStore ts = pkcs12(b.tlsTrustStore().get(), b.tlsTrustStorePassword());
        tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
      }
      return Optional.of(new Managers(Optional.ofNullable(kmf), Optional.ofNullable(tmf)));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new AgentConfigException(
          key,
          "Cannot use the TLS file named by "
              + key
              + ": "
              + e.getMessage()
              + ". Expected PEM certificates, an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY;"
              + " convert with 'openssl pkcs8 -topk8 -nocrypt'), or a PKCS#12 store with its"
              + " password.",
          e);
    }
  }

  private static byte[] read(Path file) throws IOException {
    if (Files.size(file) > MAX_PEM_BYTES) {
      throw new IOException(file + " is larger than " + MAX_PEM_BYTES + " bytes");
    }
    return Files.readAllBytes(file);
  }

  static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    Collection<? extends Certificate> certs =
        cf.generateCertificates(new java.io.ByteArrayInputStream(read(pem)));
    if (certs.isEmpty()) {
      throw new GeneralSecurityException("no certificate in " + pem);
    }
    return new ArrayList<>(certs);
  }

  static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
    String text = new String(read(pem), StandardCharsets.US_ASCII);
    Matcher m = PEM_KEY.matcher(text);
    if (!m.find()) {
      throw new GeneralSecurityException("no 'BEGIN PRIVATE KEY' (PKCS#8) block in " + pem);
    }
    byte[] der = Base64.getMimeDecoder().decode(m.group(1));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    GeneralSecurityException last = null;
    for (String alg : List.of("EC", "RSA", "Ed25519")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        last = e;
      }
    }
    throw new GeneralSecurityException("the key in " + pem + " is not EC, RSA or Ed25519", last);
  }

  private static KeyStore pkcs12(String path, Optional<String> password)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(path))) {
      ks.load(in, password.map(String::toCharArray).orElse(null));
    }
    return ks;
  }
}
