package io.edgeslm.deploy;

import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;

/**
 * Connects the way the fleet controller's transport does (ssl:// URI, no socket factory of its
 * own), subscribes to one topic and exits 0 only if the broker granted it. Run in a child JVM with
 * the javax.net.ssl.* properties under test. Arguments: url, client id, topic.
 */
public final class ControllerTlsProbe {
  private ControllerTlsProbe() {}

  public static void main(String[] args) throws Exception {
    MqttAsyncClient c = new MqttAsyncClient(args[0], args[1], new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setCleanStart(true);
    o.setConnectionTimeout(30);
    int code;
    try {
      c.connect(o).waitForCompletion(60_000);
      var tok = c.subscribe(args[2], 1, null, null);
      tok.waitForCompletion(60_000);
      code = tok.getReasonCodes()[0];
      c.disconnect().waitForCompletion(10_000);
    } catch (Exception e) {
      System.err.println("controller TLS probe failed: " + e);
      e.printStackTrace();
      System.exit(2);
      return;
    }
    System.out.println("subscribed with reason code " + code);
    System.exit(code < 0x80 ? 0 : 3);
  }
}
