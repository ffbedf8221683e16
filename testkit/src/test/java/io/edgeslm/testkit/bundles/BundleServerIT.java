package io.edgeslm.testkit.bundles;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.ChunkError;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.ErrorCode;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.testkit.MqttBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundle server answers range requests with raw chunks and unknown ones with not_found. */
class BundleServerIT {

  @TempDir Path tmp;

  record Got(Map<String, String> props, byte[] payload) {}

  @Test
  void rangeRequest_getsRawChunksWithHeaders_unknownAssignmentGetsNotFound() throws Exception {
    Path bundle = Files.createDirectories(tmp.resolve("b"));
    byte[] data = new byte[3 * 4096 + 100];
    new java.util.Random(3).nextBytes(data);
    Files.write(bundle.resolve("model.gguf"), data);
    String node = "n" + UUID.randomUUID().toString().substring(0, 8);
    NodeTopics topics = Topics.node("site", node);
    List<Got> got = new CopyOnWriteArrayList<>();
    try (MqttBroker broker = MqttBroker.forTests();
        BundleServer server = BundleServer.start(broker.url(), node + "-ctl", Faults.NONE)) {
      UpdateAssignment a =
          server.offer(
              "as-1",
              "b-1",
              new ModelRef("m", 1, "sha256:" + "0".repeat(64), "stable"),
              bundle,
              4096,
              topics);
      assertThat(a.files()).singleElement().satisfies(f -> assertThat(f.chunks()).hasSize(4));

      MqttClient c = new MqttClient(broker.url(), node + "-node", new MemoryPersistence());
      c.setCallback(
          new MqttCallback() {
            @Override
            public void messageArrived(String t, MqttMessage m) {
              Map<String, String> p = new HashMap<>();
              for (UserProperty u : m.getProperties().getUserProperties()) {
                p.put(u.getKey(), u.getValue());
              }
              got.add(new Got(p, m.getPayload()));
            }

            @Override
            public void disconnected(MqttDisconnectResponse r) {}

            @Override
            public void mqttErrorOccurred(MqttException e) {}

            @Override
            public void deliveryComplete(IMqttToken t) {}

            @Override
            public void connectComplete(boolean r, String s) {}

            @Override
            public void authPacketArrived(int r, MqttProperties p) {}
          });
      c.connect();
      c.subscribe(topics.updateChunk(), 1);
      c.publish(
          topics.updateRequest(),
          Json.write(ChunkRequest.range("r-1", "as-1", "model.gguf", 2, 2, topics.updateChunk())),
          1,
          false);
      c.publish(
          topics.updateRequest(),
          Json.write(ChunkRequest.range("r-2", "as-9", "model.gguf", 0, 1, topics.updateChunk())),
          1,
          false);
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (got.size() < 3 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      c.disconnect();
      c.close();

      assertThat(got).hasSize(3);
      Got c2 =
          got.stream().filter(g -> "2".equals(g.props().get("index"))).findFirst().orElseThrow();
      Got c3 =
          got.stream().filter(g -> "3".equals(g.props().get("index"))).findFirst().orElseThrow();
      assertThat(ChunkHeader.fromUserProperties(c2.props()).offset()).isEqualTo(8192);
      assertThat(c2.payload()).isEqualTo(Arrays.copyOfRange(data, 8192, 12288));
      assertThat(c3.payload()).isEqualTo(Arrays.copyOfRange(data, 12288, data.length));
      Got err = got.stream().filter(g -> g.props().isEmpty()).findFirst().orElseThrow();
      ChunkError e = Json.read(err.payload(), ChunkError.class);
      assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(e.message()).isEqualTo("Unknown assignment 'as-9'.");
      assertThat(server.errorsSent()).isEqualTo(1);
    }
  }
}
