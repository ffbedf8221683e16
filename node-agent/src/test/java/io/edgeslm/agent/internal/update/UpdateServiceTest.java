package io.edgeslm.agent.internal.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.config.UpdateConfig;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.KeyCurve;
import io.edgeslm.signing.SigningKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening the update side at agent start: what stops the agent with exit code 78, and why. */
class UpdateServiceTest {

  @TempDir Path tmp;

  private static UpdateConfig config(Path dataDir, List<Path> keys) {
    return new UpdateConfig(
        dataDir,
        Optional.empty(),
        keys,
        "plant-assistant",
        "stable",
        Optional.empty(),
        Duration.ofSeconds(5),
        Duration.ofMinutes(1),
        Duration.ofMinutes(5),
        Duration.ofSeconds(10),
        3,
        0.2,
        5,
        0.5,
        0,
        SwapMode.AUTO);
  }

  private static NodeProfile facts() {
    return new NodeProfile("gw-1", "x86_64", "generic", 4096, Map.of(), "0.1.0", Map.of());
  }

  @Test
  void open_pinnedKeyThatIsNotAKey_failsNamingTheKeyAndTheFix() throws Exception {
    Path garbage = Files.writeString(tmp.resolve("release.pub"), "not a PEM key");

    assertThatThrownBy(
            () ->
                UpdateService.open(
                    config(tmp.resolve("data"), List.of(garbage)),
                    facts(),
                    Topics.node("s", "gw-1"),
                    Clock.systemUTC()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith("Cannot read the pinned release key " + garbage + ": ")
        .hasMessageEndingWith(
            " Give the PEM public key of a release manager (model-signing keygen).")
        .extracting(e -> ((AgentConfigException) e).key())
        .isEqualTo("edgeslm.agent.updates.pinned-keys");
  }

  @Test
  void open_dataDirThatIsAFile_failsNamingTheDataDir() throws Exception {
    Path key = tmp.resolve("release.pub");
    SigningKey.generate(KeyCurve.P256).writePublicKey(key);
    Path notADir = Files.writeString(tmp.resolve("data"), "a file");

    assertThatThrownBy(
            () ->
                UpdateService.open(
                    config(notADir, List.of(key)),
                    facts(),
                    Topics.node("s", "gw-1"),
                    Clock.systemUTC()))
        .isInstanceOf(AgentConfigException.class)
        .hasMessageStartingWith("Cannot open the model store in " + notADir + ": ")
        .extracting(e -> ((AgentConfigException) e).key())
        .isEqualTo("edgeslm.agent.updates.data-dir");
  }

  @Test
  void open_goodKeyAndEmptyDir_opensAnEmptyStore_followingTheConfiguredModel() throws Exception {
    Path key = tmp.resolve("release.pub");
    SigningKey.generate(KeyCurve.P256).writePublicKey(key);

    UpdateService s =
        UpdateService.open(
            config(tmp.resolve("data"), List.of(key)),
            facts(),
            Topics.node("s", "gw-1"),
            Clock.systemUTC());
    try {
      assertThat(s.active()).isEmpty();
      assertThat(s.engine()).isEmpty();
      assertThat(tmp.resolve("data/models")).isDirectory();
      assertThat(tmp.resolve("data/journal")).isDirectory();
    } finally {
      s.close();
    }
  }

  @Test
  void architecture_usesTheNamesReleaseTargetsUse() {
    assertThat(UpdateService.architecture()).isIn("x86_64", "aarch64");
  }
}
