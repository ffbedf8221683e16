package io.edgeslm.testkit;

import io.edgeslm.testkit.internal.tls.CertificateIssuer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway certificate authority for TLS and mutual-TLS tests: an ECDSA P-256 CA, a server
 * certificate for {@code localhost} / {@code 127.0.0.1}, and client certificates on demand, all
 * written as PEM files into one directory. Pair it with {@link MqttBroker#privateMosquitto} through
 * {@link #mosquittoTls}. Never use these keys outside tests: they sit unencrypted on disk.
 */
public final class TestPki {
  private static final Pattern COMMON_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Path dir;
  private final Clock clock;
  private final KeyPair caKeys;
  private final X509Certificate caCertificate;
  private final Path caFile;
  private final Path serverCertFile;
  private final Path serverKeyFile;

  private TestPki(
      Path dir,
      Clock clock,
      KeyPair caKeys,
      X509Certificate caCertificate,
      Path caFile,
      Path serverCertFile,
      Path serverKeyFile) {
    this.dir = dir;
    this.clock = clock;
    this.caKeys = caKeys;
    this.caCertificate = caCertificate;
    this.caFile = caFile;
    this.serverCertFile = serverCertFile;
    this.serverKeyFile = serverKeyFile;
  }

  /**
   * Creates the CA and the server certificate in {@code dir} (created if needed). Certificates are
   * valid from a day before {@code clock}'s now to 30 days after it.
   *
   * @throws HarnessUnavailableException if the JDK lacks EC keys or the files cannot be written
   */
  public static TestPki create(Path dir, Clock clock) throws HarnessUnavailableException {
    Objects.requireNonNull(clock, "clock");
    try {
      Files.createDirectories(dir);
      CertificateIssuer issuer = new CertificateIssuer(clock);
      KeyPair caKeys = CertificateIssuer.newKeyPair();
      X509Certificate ca = issuer.issueCa("EdgeSLM test CA", caKeys);
      Path caFile = CertificateIssuer.writeCertificate(dir.resolve("ca.crt"), ca);
      KeyPair serverKeys = CertificateIssuer.newKeyPair();
      X509Certificate server =
          issuer.issueLeaf(
              "localhost",
              serverKeys.getPublic(),
              ca,
              caKeys.getPrivate(),
              true,
              new String[] {"localhost"},
              new InetAddress[] {InetAddress.getByName("127.0.0.1")});
      Path serverCert = CertificateIssuer.writeCertificate(dir.resolve("server.crt"), server);
      Path serverKey =
          CertificateIssuer.writePrivateKey(dir.resolve("server.key"), serverKeys.getPrivate());
      return new TestPki(dir, clock, caKeys, ca, caFile, serverCert, serverKey);
    } catch (IOException | GeneralSecurityException e) {
      throw new HarnessUnavailableException(
          "Could not create the test PKI in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** {@link #create(Path, Clock)} with the system clock. */
  public static TestPki create(Path dir) throws HarnessUnavailableException {
    return create(dir, Clock.systemUTC());
  }

  /** PEM file of the CA certificate. */
  public Path caCertificate() {
    return caFile;
  }

  /** PEM file of the server certificate (CN and SAN localhost, SAN IP 127.0.0.1). */
  public Path serverCertificate() {
    return serverCertFile;
  }

  /** PEM file of the server's private key. */
  public Path serverKey() {
    return serverKeyFile;
  }

  /** TLS settings for a private Mosquitto serving this PKI's server certificate. */
  public MosquittoTls mosquittoTls(
      boolean requireClientCertificate, boolean useIdentityAsUsername) {
    return new MosquittoTls(
        caFile, serverCertFile, serverKeyFile, requireClientCertificate, useIdentityAsUsername);
  }

  /**
   * Issues a client certificate with common name {@code commonName} (letters, digits, {@code .-_},
   * up to 64), writes {@code <cn>.crt}/{@code <cn>.key}, and returns it with a socket factory.
   *
   * @throws IllegalArgumentException if the name breaks the rule above
   * @throws HarnessUnavailableException if issuing or writing fails
   */
  public TlsClientIdentity issueClient(String commonName) throws HarnessUnavailableException {
    if (!COMMON_NAME.matcher(commonName).matches()) {
      throw new IllegalArgumentException(
          "Client common name '"
              + commonName
              + "' must be 1-64 letters, digits, '.', '-' or '_' (it becomes a file name and an"
              + " MQTT username).");
    }
    try {
      KeyPair keys = CertificateIssuer.newKeyPair();
      X509Certificate cert =
          new CertificateIssuer(clock)
              .issueLeaf(
                  commonName,
                  keys.getPublic(),
                  caCertificate,
                  caKeys.getPrivate(),
                  false,
                  new String[0],
                  new InetAddress[0]);
      Path certFile = CertificateIssuer.writeCertificate(dir.resolve(commonName + ".crt"), cert);
      Path keyFile =
          CertificateIssuer.writePrivateKey(dir.resolve(commonName + ".key"), keys.getPrivate());
      char[] pw = "test".toCharArray();
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("client", keys.getPrivate(), pw, new X509Certificate[] {cert, caCertificate});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf.getKeyManagers(), trustManagers().getTrustManagers(), null);
      return new TlsClientIdentity(commonName, certFile, keyFile, ctx.getSocketFactory());
    } catch (IOException | GeneralSecurityException e) {
      throw new HarnessUnavailableException(
          "Could not issue a client certificate for '" + commonName + "': " + e.getMessage(), e);
    }
  }

  /** A socket factory that trusts only this CA and presents no client certificate. */
  public SSLSocketFactory anonymousSocketFactory() throws HarnessUnavailableException {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, trustManagers().getTrustManagers(), null);
      return ctx.getSocketFactory();
    } catch (GeneralSecurityException | IOException e) {
      throw new HarnessUnavailableException("Could not build a TLS context: " + e.getMessage(), e);
    }
  }

  /** A key store holding only the CA certificate (alias {@code ca}). */
  public KeyStore trustStore() throws GeneralSecurityException, IOException {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", caCertificate);
    return ts;
  }

  private TrustManagerFactory trustManagers() throws GeneralSecurityException, IOException {
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trustStore());
    return tmf;
  }
}
