package io.edgeslm.inference.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.inference.ChatMessage;
import io.edgeslm.inference.FinishReason;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.ModelSpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameTest {

  private static Frame roundTrip(Frame f) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      f.writeTo(out);
    }
    return Frame.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
  }

  @Test
  void generateFrame_roundTrips_everyRequestField() throws IOException {
    GenerationRequest r =
        GenerationRequest.ofChat(
                List.of(ChatMessage.system("be brief"), ChatMessage.user("Öl 71,2 °C?")), 33)
            .withSampling(0.7, 9)
            .withStopStrings(List.of("\nQ:", "END"))
            .withJsonSchema("{\"type\":\"object\"}");

    Frame back = roundTrip(new Frame(Frame.Type.GENERATE, 77, Wire.encodeRequest(r)));

    assertThat(back.type()).isEqualTo(Frame.Type.GENERATE);
    assertThat(back.id()).isEqualTo(77);
    assertThat(Wire.decodeRequest(back.payload())).isEqualTo(r);
  }

  @Test
  void loadAndDoneFrames_roundTrip() throws IOException {
    ModelSpec spec =
        new ModelSpec(Path.of("/m/model.gguf"), 2, 2048, 2, List.of(Path.of("/m/lora.gguf")));
    assertThat(Wire.decodeSpec(Wire.encodeSpec(spec))).isEqualTo(spec);
    assertThat(Wire.decodeDone(Wire.encodeDone(12, 5, FinishReason.LENGTH)))
        .isEqualTo(new Wire.Done(12, 5, FinishReason.LENGTH));
  }

  @Test
  void readFrom_lengthBeyondBound_isRefusedBeforeAllocating() {
    byte[] header = {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assertThatThrownBy(() -> Frame.readFrom(new DataInputStream(new ByteArrayInputStream(header))))
        .isInstanceOf(IOException.class)
        .hasMessage("Worker frame length 2147483647 outside 9..4194304");
  }

  @Test
  void readFrom_unknownType_isRefused() {
    byte[] frame = {0, 0, 0, 9, 99, 0, 0, 0, 0, 0, 0, 0, 1};
    assertThatThrownBy(() -> Frame.readFrom(new DataInputStream(new ByteArrayInputStream(frame))))
        .hasMessage("Unknown worker frame type 99; host and worker differ.");
  }

  @Test
  void readFrom_cleanEnd_isEof() {
    assertThatThrownBy(
            () -> Frame.readFrom(new DataInputStream(new ByteArrayInputStream(new byte[0]))))
        .isInstanceOf(EOFException.class);
  }

  @Test
  void decodeRequest_stringLongerThanPayload_isRefused() {
    byte[] bogus = {0x00, 0x10, 0x00, 0x00, 'a'};
    assertThatThrownBy(() -> Wire.decodeRequest(bogus))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("out of bounds");
  }

  @Test
  void describeExit_namesSignals() {
    assertThat(WorkerProcess.describeExit(137)).isEqualTo("killed by signal 9");
    assertThat(WorkerProcess.describeExit(3)).isEqualTo("exit code 3");
  }
}
