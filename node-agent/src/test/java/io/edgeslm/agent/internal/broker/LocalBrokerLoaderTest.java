package io.edgeslm.agent.internal.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgeslm.agent.AgentConfigException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent without its demo broker: the module's own class path, like the gateway artifact, has no
 * {@code LocalBrokerProvider}, so asking for the embedded broker is a configuration error naming
 * the key, the value and what to do, and so is a jars directory that cannot provide one.
 */
class LocalBrokerLoaderTest {

  @TempDir Path tmp;

  @Test
  void noJarsConfigured_noProviderOnTheClassPath_namesTheBrokerUrlAndBothWaysOut() {
    for (Optional<String> jars : java.util.List.of(Optional.<String>empty(), Optional.of("  "))) {
      AgentConfigException e =
          catchThrowableOfType(AgentConfigException.class, () -> LocalBrokerLoader.find(jars));

      assertThat(e.key()).isEqualTo("edgeslm.agent.broker.url");
      assertThat(e.getMessage())
          .isEqualTo(LocalBrokerLoader.noEmbeddedBrokerMessage())
          .startsWith("Invalid configuration edgeslm.agent.broker.url='': no broker is configured")
          .contains("the gateway artifact leaves it out")
          .contains("Set edgeslm.agent.broker.url to your MQTT broker")
          .contains("EDGESLM_AGENT_BROKER_URL")
          .endsWith(
              "or try the agent with its demo broker by running ./run-agent in the repository.");
    }
  }

  @Test
  void jarsDirectoryMissing_namesTheJarsKeyAndValue() {
    String dir = tmp.resolve("nowhere").toString();

    AgentConfigException e =
        catchThrowableOfType(
            AgentConfigException.class, () -> LocalBrokerLoader.find(Optional.of(dir)));

    assertThat(e.key()).isEqualTo("edgeslm.agent.broker.embedded.jars");
    assertThat(e.getMessage())
        .isEqualTo(
            "Invalid configuration edgeslm.agent.broker.embedded.jars='"
                + dir
                + "': no such directory; expected the directory of the embedded broker's jars"
                + " (demo-broker/target/embedded-broker, which ./run-agent builds and sets). Build"
                + " it with ./run-agent, unset EDGESLM_AGENT_BROKER_EMBEDDED_JARS, or set"
                + " edgeslm.agent.broker.url to an MQTT broker.");
  }

  @Test
  void jarsDirectoryWithoutJars_isRefused() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    Files.writeString(dir.resolve("README.txt"), "not a jar");

    AgentConfigException e =
        catchThrowableOfType(
            AgentConfigException.class, () -> LocalBrokerLoader.find(Optional.of(dir.toString())));

    assertThat(e.key()).isEqualTo("edgeslm.agent.broker.embedded.jars");
    assertThat(e.getMessage()).contains("='" + dir + "': holds no .jar files;");
  }

  @Test
  void jarsWithoutAProvider_sayWhichServiceFileIsMissing() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("other"));
    jar(dir.resolve("other.jar"), "notes/readme.txt", "nothing to see");

    AgentConfigException e =
        catchThrowableOfType(
            AgentConfigException.class, () -> LocalBrokerLoader.find(Optional.of(dir.toString())));

    assertThat(e.key()).isEqualTo("edgeslm.agent.broker.embedded.jars");
    assertThat(e.getMessage())
        .contains(
            "='"
                + dir
                + "': none of its jars has"
                + " META-INF/services/io.edgeslm.agent.broker.LocalBrokerProvider;");
  }

  @Test
  void providerClassMissingFromTheJars_isAConfigurationErrorNotACrash() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("broken"));
    jar(
        dir.resolve("broken.jar"),
        "META-INF/services/io.edgeslm.agent.broker.LocalBrokerProvider",
        "org.example.NoSuchProvider\n");

    AgentConfigException e =
        catchThrowableOfType(
            AgentConfigException.class, () -> LocalBrokerLoader.find(Optional.of(dir.toString())));

    assertThat(e.key()).isEqualTo("edgeslm.agent.broker.embedded.jars");
    assertThat(e.getMessage())
        .contains("='" + dir + "': its embedded broker cannot be loaded (")
        .contains("org.example.NoSuchProvider");
  }

  private static void jar(Path file, String entry, String content) throws IOException {
    try (OutputStream out = Files.newOutputStream(file);
        JarOutputStream jar = new JarOutputStream(out)) {
      jar.putNextEntry(new JarEntry(entry));
      jar.write(content.getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }
  }
}
