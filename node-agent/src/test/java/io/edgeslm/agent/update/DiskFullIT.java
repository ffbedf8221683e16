package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.edgeslm.agent.internal.update.PahoUpdateLink;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.protocol.UpdateOutcome;
import io.edgeslm.protocol.UpdateResult;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk fills up while a bundle downloads (another writer takes the space on a real, small
 * tmpfs): the node reports {@code disk_full} and the old model keeps serving. Mounting tmpfs needs
 * root (or CAP_SYS_ADMIN); without it the test fails and says so.
 */
class DiskFullIT {

  static MqttBroker broker;
  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    broker = MqttBroker.forTests();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  @Test
  void diskFullDuringDownload_rejectsWithDiskFull_andTheOldModelKeepsServing() throws Exception {
    Path mount = Files.createDirectories(tmp.resolve("small-disk"));
    run("mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", mount.toString());
    try {
      TestBundles b = new TestBundles();
      Path stick = Files.createDirectories(tmp.resolve("stick"));
      b.bundle(stick.resolve("v5"), TestBundles.Spec.version(5));
      Path v6 = b.bundle(tmp.resolve("v6"), TestBundles.Spec.version(6).padding(12L << 20));
      String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
      RecordingRuntime runtime = new RecordingRuntime();
      List<UpdateResult> results = new CopyOnWriteArrayList<>();
      try (BundleServer server = BundleServer.start(broker.url(), nodeId + "-ctl", Faults.NONE);
          TestNode node =
              new TestNode(
                  broker.url(),
                  nodeId,
                  mount.resolve("data"),
                  b.trust(),
                  runtime,
                  MqttUpdateIT.fastSoak())) {
        assertThat(
                new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 60_000)
                    .scan())
            .singleElement()
            .satisfies(o -> assertThat(o.outcome()).isEqualTo("activated"));
        PahoUpdateLink watcher = PahoUpdateLink.connect(broker.url(), nodeId + "-watch");
        assertThat(watcher.awaitConnected(10_000)).isTrue();
        watcher.subscribe(
            node.topics.updateResult(), 1, m -> results.add(MqttUpdateIT.read(m.payload())));

        server.setPaused(true);
        UpdateAssignment a =
            server.offer(
                "as-" + nodeId,
                "bundle-6",
                b.ref(v6, 6),
                v6,
                UpdateAssignment.DEFAULT_CHUNK_BYTES,
                node.topics);
        server.publishAssignment(node.topics, a);
        await().atMost(Duration.ofSeconds(30)).until(() -> server.requests() > 0);
        fill(mount.resolve("filler.bin"), 1L << 20); // leave about 1 MiB
        server.setPaused(false);

        await()
            .atMost(Duration.ofMinutes(2))
            .until(() -> results.stream().anyMatch(r -> r.outcome() == UpdateOutcome.REJECTED));
        UpdateResult r = results.getLast();
        assertThat(r.reasonCode()).isEqualTo(ReasonCode.DISK_FULL.code());
        assertThat(r.reason()).startsWith("The disk filled up while writing the download: ");
        assertThat(r.reason()).endsWith("the current model keeps serving.");
        assertThat(r.activeModel().version()).isEqualTo(5);
        assertThat(node.store.active().orElseThrow().version()).isEqualTo(5);
        assertThat(runtime.loads()).hasSize(1);
        server.clearAssignment(node.topics);
        watcher.close();
      }
    } finally {
      run("umount", "-l", mount.toString());
    }
  }

  /** Writes until only {@code leave} bytes are free. */
  static void fill(Path file, long leave) throws IOException {
    byte[] buf = new byte[64 << 10];
    try (OutputStream out = Files.newOutputStream(file)) {
      while (Files.getFileStore(file.getParent()).getUsableSpace() > leave + buf.length) {
        out.write(buf);
      }
    }
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new AssertionError(
          String.join(" ", cmd)
              + " failed: "
              + out
              + "This test needs to mount a small tmpfs: run it as root or with CAP_SYS_ADMIN.");
    }
  }
}
