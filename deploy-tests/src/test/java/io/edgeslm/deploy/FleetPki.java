package io.edgeslm.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The real {@code deploy/k3s/scripts/fleet-pki.sh}, run in a directory of the test's, and TLS
 * socket factories built from the files it writes, the way the applications read them: a node from
 * PEM files ({@code edgeslm.agent.broker.tls.*}), a controller replica from its PKCS#12 key store
 * and the trust store (the JVM's {@code javax.net.ssl.*} properties).
 */
final class FleetPki {
  final Path dir;

  FleetPki(Path dir) {
    this.dir = dir;
  }

  /** Runs the script with {@code --dir dir} and the arguments; returns its stderr. */
  String run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("bash");
    cmd.add(Repo.k3s().resolve("scripts/fleet-pki.sh").toString());
    cmd.add("--dir");
    cmd.add(dir.toString());
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile("fleet-pki-", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("fleet-pki.sh " + String.join(" ", args) + " hung for 120 s");
      }
      String out = Files.readString(log, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new ScriptFailed(p.exitValue(), out);
      }
      return out;
    } finally {
      Files.deleteIfExists(log);
    }
  }

  /** The script refused; {@link #output} is what it told the technician. */
  static final class ScriptFailed extends AssertionError {
    final int exitCode;
    final String output;

    ScriptFailed(int exitCode, String output) {
      super("fleet-pki.sh exited with " + exitCode + ": " + output);
      this.exitCode = exitCode;
      this.output = output;
    }
  }

  Path caCert() {
    return dir.resolve("ca/ca.crt");
  }

  /** A node's TLS identity from its PEM files, as the agent loads them. */
  SSLSocketFactory node(String id) throws Exception {
    Path d = dir.resolve("nodes/" + id);
    return fromPem(d.resolve("node.crt"), d.resolve("node.key"), d.resolve("ca.crt"));
  }

  /** A controller replica's identity from controller-n.p12 and truststore.p12. */
  SSLSocketFactory controller(int replica) throws Exception {
    char[] pw = password();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(dir.resolve("controller/controller-" + replica + ".p12"))) {
      ks.load(in, pw);
    }
    KeyStore ts = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(dir.resolve("controller/truststore.p12"))) {
      ts.load(in, pw);
    }
    return context(ks, pw, ts);
  }

  char[] password() throws IOException {
    return Files.readString(dir.resolve("controller/password")).trim().toCharArray();
  }

  /** Trusts the fleet CA and presents no client certificate. */
  SSLSocketFactory anonymous() throws Exception {
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", readCert(caCert()));
    return context(null, null, ts);
  }

  static SSLSocketFactory fromPem(Path cert, Path key, Path ca) throws Exception {
    String pem = Files.readString(key);
    byte[] der =
        Base64.getMimeDecoder()
            .decode(
                pem.replace("-----BEGIN PRIVATE KEY-----", "")
                    .replace("-----END PRIVATE KEY-----", "")
                    .trim());
    PrivateKey privateKey =
        KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    char[] pw = "unused".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("node", privateKey, pw, new Certificate[] {readCert(cert)});
    KeyStore ts = KeyStore.getInstance("PKCS12");
    ts.load(null, null);
    ts.setCertificateEntry("ca", readCert(ca));
    return context(ks, pw, ts);
  }

  private static Certificate readCert(Path p) throws Exception {
    try (var in = Files.newInputStream(p)) {
      return CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static SSLSocketFactory context(KeyStore ks, char[] pw, KeyStore ts) throws Exception {
    KeyManagerFactory kmf = null;
    if (ks != null) {
      kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, pw);
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ts);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx.getSocketFactory();
  }
}
