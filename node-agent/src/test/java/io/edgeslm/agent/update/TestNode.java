package io.edgeslm.agent.update;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.UpdateJournal;
import io.edgeslm.agent.internal.update.BundleGate;
import io.edgeslm.agent.internal.update.ConnectionUpdateLink;
import io.edgeslm.agent.internal.update.ModelRuntime;
import io.edgeslm.agent.internal.update.NodeProfile;
import io.edgeslm.agent.internal.update.UpdateEngine;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.signing.TrustStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/** One node's update engine on a real broker, with its own store directory. */
public final class TestNode implements AutoCloseable {

  public final String nodeId;
  public final NodeTopics topics;
  public final ModelStore store;
  public final UpdateJournal journal;
  public final ConnectionUpdateLink link;
  public final UpdateEngine engine;

  public TestNode(
      String brokerUrl,
      String nodeId,
      Path dataDir,
      TrustStore trust,
      ModelRuntime runtime,
      UpdateSettings settings)
      throws IOException {
    this.nodeId = nodeId;
    this.topics = Topics.node("plant-7", nodeId);
    this.store = ModelStore.open(dataDir);
    this.journal = UpdateJournal.open(dataDir.resolve("journal"));
    NodeProfile profile = profile(nodeId);
    this.link = ConnectionUpdateLink.open(brokerUrl, nodeId + "-update");
    // Generous: PowerLossIT starts this node a hundred times in fresh JVMs, and on a loaded CI
    // machine one start took longer than 15 s to connect (the broker was up).
    if (!link.awaitConnected(60_000)) {
      String why = link.lastError();
      link.close();
      throw new IOException(
          "No MQTT connection to "
              + brokerUrl
              + " within 60 s ("
              + why
              + "). Is Mosquitto running (apt-get install mosquitto)?");
    }
    this.engine =
        new UpdateEngine(
            store,
            journal,
            new BundleGate(trust, profile),
            runtime,
            link,
            profile,
            topics,
            settings,
            Clock.systemUTC());
    engine.start();
  }

  public static NodeProfile profile(String nodeId) {
    return new NodeProfile(
        nodeId,
        "x86_64",
        TestBundles.DEVICE_CLASS,
        8192,
        Map.of("site", "plant-7"),
        "1.0.0",
        Map.of(TestBundles.MODEL, TestBundles.CHANNEL));
  }

  @Override
  public void close() throws IOException {
    engine.close();
    link.close();
    journal.close();
  }
}
