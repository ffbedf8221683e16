package io.edgeslm.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MessageTest {

  @Test
  void of_copiesThePayloadInAndOut() {
    byte[] bytes = {1, 2, 3};
    Message m = Message.of("a/b", bytes, 1, false);
    bytes[0] = 9;
    byte[] out = m.payload();
    out[1] = 9;
    assertThat(m.payload()).containsExactly(1, 2, 3);
    assertThat(m.payloadSize()).isEqualTo(3);
  }

  @Test
  void wrap_takesTheRemainingBytesWithoutACopy_andHandsOutReadOnlyViews() {
    ByteBuffer direct = ByteBuffer.allocateDirect(8);
    direct.put(new byte[] {0, 0, 5, 6, 7}).flip().position(2);
    Message m = Message.wrap("a/b", direct, 1, false);
    assertThat(m.payloadSize()).isEqualTo(3);
    assertThat(m.payload()).containsExactly(5, 6, 7);

    ByteBuffer view = m.payloadBuffer();
    assertThat(view.isReadOnly()).isTrue();
    assertThat(view.position()).isZero();
    assertThat(view.remaining()).isEqualTo(3);
    assertThatThrownBy(() -> view.put(0, (byte) 1)).isInstanceOf(ReadOnlyBufferException.class);
    // Reading one view does not move another.
    view.get();
    assertThat(m.payloadBuffer().remaining()).isEqualTo(3);
  }

  @Test
  void withMethods_keepThePayloadAndAddTheProperties() {
    Message m =
        Message.wrap("a/b", ByteBuffer.wrap(new byte[] {4, 2}), 1, true)
            .withUserProperties(List.of(Map.entry("index", "7"), Map.entry("index", "8")))
            .withContentType("application/octet-stream")
            .withExpirySeconds(60);
    assertThat(m.payload()).containsExactly(4, 2);
    assertThat(m.qos()).isEqualTo(1);
    assertThat(m.retain()).isTrue();
    assertThat(m.userProperty("index")).contains("7");
    assertThat(m.userProperties()).hasSize(2);
    assertThat(m.contentType()).contains("application/octet-stream");
    assertThat(m.messageExpirySeconds()).contains(60L);
  }

  @Test
  void correlationData_isCopiedInAndOut() {
    byte[] corr = {1};
    Message m = Message.of("q/ask", new byte[0], 1, false).withResponse("q/answer", corr);
    corr[0] = 2;
    m.correlationData().get()[0] = 3;
    assertThat(m.correlationData().get()).containsExactly(1);
    assertThat(m.responseTopic()).contains("q/answer");
  }

  @Test
  void refusesWhatMqttForbids() {
    assertThatThrownBy(() -> Message.wrap("a/#", ByteBuffer.allocate(0), 1, false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Message.of("a/b", new byte[0], 3, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("QoS");
    assertThatThrownBy(() -> Message.of("a/b", new byte[0], 1, false).withExpirySeconds(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> Message.of("a/b", new byte[0], 1, false).withResponse("a/+", new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
