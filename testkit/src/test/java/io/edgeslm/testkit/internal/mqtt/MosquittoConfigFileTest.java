package io.edgeslm.testkit.internal.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.MosquittoConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

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
}
