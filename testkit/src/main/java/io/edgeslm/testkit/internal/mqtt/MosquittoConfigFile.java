package io.edgeslm.testkit.internal.mqtt;

import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MosquittoTls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Renders a {@link MosquittoConfig} as a {@code mosquitto.conf} for Mosquitto 2.x (option names
 * from mosquitto.conf(5)). Pure: paths and the port come from the caller.
 */
public final class MosquittoConfigFile {
  private MosquittoConfigFile() {}

  /**
   * @param bindAddress listener address ({@code 127.0.0.1} for a process, {@code 0.0.0.0} inside a
   *     container)
   * @param aclFile where the ACL lines are written (used only if there are any)
   * @param persistenceDir directory for the persistence file, with a trailing separator
   * @param runAsUser the user Mosquitto must keep when started as root (it otherwise switches to
   *     {@code mosquitto}, which cannot read the kit's private directory), or {@code null}
   */
  public static List<String> render(
      MosquittoConfig c,
      String bindAddress,
      int port,
      Path aclFile,
      String persistenceDir,
      String runAsUser) {
    List<String> l = new ArrayList<>();
    l.add("# Written by the EdgeSLM test kit for one test run.");
    l.add("per_listener_settings false");
    if (runAsUser != null) {
      l.add("user " + runAsUser);
    }
    l.add("listener " + port + " " + bindAddress);
    MosquittoTls tls = c.tls();
    if (tls != null) {
      l.add("cafile " + tls.caFile());
      l.add("certfile " + tls.certFile());
      l.add("keyfile " + tls.keyFile());
      l.add("require_certificate " + tls.requireCertificate());
      l.add("use_identity_as_username " + tls.useIdentityAsUsername());
      if (tls.useUsernameAsClientId()) {
        l.add("use_username_as_clientid true");
      }
    }
    l.add("allow_anonymous " + c.allowAnonymous());
    if (c.persistence()) {
      l.add("persistence true");
      l.add("persistence_location " + persistenceDir);
      l.add("autosave_interval 1");
    } else {
      l.add("persistence false");
    }
    if (c.maxPacketSize() > 0) {
      l.add("max_packet_size " + c.maxPacketSize());
    }
    if (!c.aclLines().isEmpty()) {
      l.add("acl_file " + aclFile);
    }
    l.add("log_dest stderr");
    for (String type : List.of("error", "warning", "notice", "information", "subscribe")) {
      l.add("log_type " + type);
    }
    l.add("connection_messages true");
    l.add("log_timestamp_format %Y-%m-%dT%H:%M:%S");
    l.addAll(c.extraLines());
    return l;
  }
}
