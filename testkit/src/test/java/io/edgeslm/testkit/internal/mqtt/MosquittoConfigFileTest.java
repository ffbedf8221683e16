package io.edgeslm.testkit.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MosquittoTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MosquittoConfigFileTest {

  @Test
  void render_defaults_plainLoopbackListenerWithoutPersistenceOrAcl() {
    List<String> lines =
        MosquittoConfigFile.render(
            MosquittoConfig.defaults(), "127.0.0.1", 4242, Path.of("/x/acl"), "/x/data/", null);
    assertThat(lines)
        .contains(
            "per_listener_settings false",
            "listener 4242 127.0.0.1",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr")
        .noneMatch(l -> l.startsWith("user "))
        .noneMatch(l -> l.startsWith("acl_file"))
        .noneMatch(l -> l.startsWith("max_packet_size"))
        .noneMatch(l -> l.startsWith("cafile"));
  }

  @Test
  void render_allOptions_inMosquittoSyntaxWithExtraLinesLast() {
    MosquittoConfig c =
        MosquittoConfig.defaults()
            .withMaxPacketSize(300_000)
            .withPersistence(true)
            .withAllowAnonymous(false)
            .withAcl("topic read a/#")
            .withExtraLines("max_inflight_messages 5");
    List<String> lines =
        MosquittoConfigFile.render(c, "0.0.0.0", 1883, Path.of("/x/acl"), "/x/data/", "root");
    assertThat(lines)
        .contains(
            "user root",
            "listener 1883 0.0.0.0",
            "allow_anonymous false",
            "persistence true",
            "persistence_location /x/data/",
            "max_packet_size 300000",
            "acl_file /x/acl");
    assertThat(lines.getLast()).isEqualTo("max_inflight_messages 5");
  }

  @Test
  void render_tls_bindsTheClientIdToTheCertificateIdentityOnlyWhenAsked(@TempDir Path dir)
      throws Exception {
    Path ca = Files.writeString(dir.resolve("ca.crt"), "ca");
    Path cert = Files.writeString(dir.resolve("tls.crt"), "cert");
    Path key = Files.writeString(dir.resolve("tls.key"), "key");
    MosquittoTls tls = new MosquittoTls(ca, cert, key, true, true);
    List<String> plain =
        MosquittoConfigFile.render(
            MosquittoConfig.defaults().withTls(tls), "127.0.0.1", 8883, dir, "/x/", null);
    assertThat(plain)
        .contains(
            "cafile " + ca.toAbsolutePath(),
            "require_certificate true",
            "use_identity_as_username true")
        .noneMatch(l -> l.startsWith("use_username_as_clientid"));

    List<String> bound =
        MosquittoConfigFile.render(
            MosquittoConfig.defaults().withTls(tls.withUsernameAsClientId()),
            "127.0.0.1",
            8883,
            dir,
            "/x/",
            null);
    // A listener option (mosquitto.conf(5)): after the listener line, beside the identity.
    assertThat(bound.indexOf("use_username_as_clientid true"))
        .isEqualTo(bound.indexOf("use_identity_as_username true") + 1)
        .isGreaterThan(bound.indexOf("listener 8883 127.0.0.1"));
  }
}
