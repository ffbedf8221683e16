package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Mosquitto command lines of {@code docs/protocol.md}, run against the local broker, carry our
 * records intact: MQTT 5 properties of a question, and the user properties of a binary chunk.
 * Messages are published retained on a topic unique to the run (so the subscriber cannot miss them)
 * and cleared afterwards.
 */
class MosquittoCommandsIT {

  private static final String HOST = "127.0.0.1";
  private static final int PORT = 1883;
  private static final long PROCESS_LIMIT_SECONDS = 60;

  private final String site = "it-" + UUID.randomUUID().toString().substring(0, 8);
  private final NodeTopics topics = Topics.node(site, "gw-0042");

  @BeforeAll
  static void brokerIsRunning() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, PORT), 5000);
    } catch (IOException e) {
      fail(
          "No MQTT broker at "
              + HOST
              + ":"
              + PORT
              + " ("
              + e.getMessage()
              + "). Install and start Mosquitto (apt-get install mosquitto mosquitto-clients;"
              + " mosquitto -d).");
    }
  }

  private static String run(List<String> command, byte[] stdin)
      throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError(
          "Could not start "
              + command.getFirst()
              + " ("
              + e.getMessage()
              + "). Install the Mosquitto clients (apt-get install mosquitto-clients).",
          e);
    }
    if (stdin != null) {
      p.getOutputStream().write(stdin);
    }
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(PROCESS_LIMIT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(String.join(" ", command) + " did not finish");
    }
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(String.join(" ", command) + "\n" + text).isZero();
    return text;
  }

  private static String receiveOne(String topic, String format) throws Exception {
    return run(
        List.of(
            "mosquitto_sub",
            "-V",
            "mqttv5",
            "-h",
            HOST,
            "-p",
            String.valueOf(PORT),
            "-t",
            topic,
            "-C",
            "1",
            "-W",
            "30",
            "-F",
            format),
        null);
  }

  private static void clearRetained(String topic) throws Exception {
    run(
        List.of("mosquitto_pub", "-h", HOST, "-p", String.valueOf(PORT), "-t", topic, "-r", "-n"),
        null);
  }

  @Test
  void mqtt5Question_keepsResponseTopicCorrelationDataAndPayload() throws Exception {
    Question question = new Question(1, null, "Why is press 2 running hot?", null, true, null);
    String topic = topics.ask();
    try {
      run(
          List.of(
              "mosquitto_pub",
              "-V",
              "mqttv5",
              "-h",
              HOST,
              "-p",
              String.valueOf(PORT),
              "-q",
              "1",
              "-r",
              "-t",
              topic,
              "-D",
              "publish",
              "response-topic",
              "operators/alice/replies",
              "-D",
              "publish",
              "correlation-data",
              "q-0001",
              "-D",
              "publish",
              "message-expiry-interval",
              "60",
              "-m",
              Json.writeString(question)),
          null);

      String[] parts = receiveOne(topic, "%R|%D|%p").strip().split("\\|", 3);

      assertThat(parts[0]).isEqualTo("operators/alice/replies");
      assertThat(parts[1]).isEqualTo("q-0001");
      assertThat(
              Json.read(
                  parts[2].getBytes(StandardCharsets.UTF_8),
                  Question.class,
                  Question.MAX_PAYLOAD_BYTES))
          .isEqualTo(question);
    } finally {
      clearRetained(topic);
    }
  }

  @Test
  void binaryChunk_userPropertiesSurviveTheBroker(@TempDir Path dir) throws Exception {
    byte[] bytes = new byte[4096];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 7);
    }
    Path chunk = Files.write(dir.resolve("chunk.bin"), bytes);
    ChunkHeader header = ChunkHeader.of("r-0001", "as-7f3c", "model.gguf", 1, 262144);
    String topic = topics.updateChunk();
    List<String> command =
        new ArrayList<>(
            List.of(
                "mosquitto_pub",
                "-V",
                "mqttv5",
                "-h",
                HOST,
                "-p",
                String.valueOf(PORT),
                "-q",
                "1",
                "-r",
                "-t",
                topic,
                "-D",
                "publish",
                "content-type",
                ChunkHeader.CONTENT_TYPE));
    header
        .toUserProperties()
        .forEach((k, v) -> command.addAll(List.of("-D", "publish", "user-property", k, v)));
    command.addAll(List.of("-f", chunk.toString()));
    try {
      run(command, null);

      String[] parts = receiveOne(topic, "%C|%l|%P").strip().split("\\|", 3);

      assertThat(parts[0]).isEqualTo("application/octet-stream");
      assertThat(parts[1]).isEqualTo("4096");
      Map<String, String> received = new LinkedHashMap<>();
      for (String pair : parts[2].split(" ")) {
        int colon = pair.indexOf(':');
        received.put(pair.substring(0, colon), pair.substring(colon + 1));
      }
      assertThat(ChunkHeader.fromUserProperties(received)).isEqualTo(header);
    } finally {
      clearRetained(topic);
    }
  }
}
