package io.edgeslm.mqtt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.mqtt.MqttConnection;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class WarmUpTest {

  @Test
  void warmUp_connectsNowhere_andLeavesNoThreadOfTheClientRunning() throws Exception {
    // The warm-up client names localhost:1883; listen there if we can, to see that nothing
    // connects (a machine's own broker may hold the port: then the thread check stands alone).
    ServerSocket listener = null;
    try {
      listener = new ServerSocket(1883);
      listener.setSoTimeout(300);
    } catch (java.io.IOException portTaken) {
      listener = null;
    }
    try {
      MqttConnection.warmUp();
      MqttConnection.warmUp();

      Set<String> threads =
          Thread.getAllStackTraces().keySet().stream()
              .filter(Thread::isAlive)
              .map(Thread::getName)
              .collect(Collectors.toSet());
      // Netty's event loop and the client's own threads start only with a connect.
      assertThat(threads).noneMatch(n -> n.startsWith("com.hivemq.client.mqtt"));
      if (listener != null) {
        boolean accepted;
        try (var s = listener.accept()) {
          accepted = true;
        } catch (SocketTimeoutException e) {
          accepted = false;
        }
        assertThat(accepted).as("a connection to localhost:1883").isFalse();
      }
    } finally {
      if (listener != null) {
        listener.close();
      }
    }
  }
}
