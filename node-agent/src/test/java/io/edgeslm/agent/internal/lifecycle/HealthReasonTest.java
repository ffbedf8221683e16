package io.edgeslm.agent.internal.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.Source;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A not-ready reason that quotes a long model path and a native loader's message (seen in the
 * system test) is longer than the 500 characters a health message allows: it is shortened so the
 * health message is still sent.
 */
class HealthReasonTest {

  @Test
  void longReason_isShortenedToWhatTheHealthMessageAccepts() {
    String why = "llama.cpp could not load '/var/lib/edgeslm-agent/models/" + "a".repeat(600) + "'";
    String bounded = AgentRuntime.boundedReason(why);
    assertThat(bounded).hasSize(500).startsWith("llama.cpp could not load").endsWith("...");
    NodeHealth h =
        new NodeHealth(
            Protocol.SCHEMA_VERSION,
            Instant.now(),
            1,
            false,
            bounded,
            Source.RULES,
            null,
            null,
            null,
            0,
            0,
            0,
            1,
            2,
            3,
            null,
            null);
    assertThat(h.notReadyReason()).isEqualTo(bounded);
  }

  @Test
  void shortReason_isKeptAsItIs() {
    assertThat(AgentRuntime.boundedReason("model loading")).isEqualTo("model loading");
  }
}
