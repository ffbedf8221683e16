package io.edgeslm.agent.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The shutdown line that explains the wait after Ctrl-C on a first start. */
class AotCacheOutputTest {

  @Test
  void aRecordingStart_namesTheCacheFile() {
    assertThat(
            AgentRuntime.aotCacheOutput(
                List.of(
                    "-XX:+UseSerialGC",
                    "-XX:AOTCacheOutput=/var/lib/edgeslm/aot/agent-1.aot",
                    "-Xlog:aot*=error")))
        .contains("/var/lib/edgeslm/aot/agent-1.aot");
  }

  @Test
  void aStartThatUsesACache_orHasNone_saysNothing() {
    assertThat(
            AgentRuntime.aotCacheOutput(List.of("-XX:AOTCache=/var/lib/edgeslm/aot/agent-1.aot")))
        .isEmpty();
    assertThat(AgentRuntime.aotCacheOutput(List.of())).isEmpty();
  }

  @Test
  void theLastOptionWins_asInTheJvm() {
    assertThat(
            AgentRuntime.aotCacheOutput(
                List.of("-XX:AOTCacheOutput=/tmp/a.aot", "-XX:AOTCacheOutput=/tmp/b.aot")))
        .contains("/tmp/b.aot");
  }
}
