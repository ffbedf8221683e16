package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real node agent (the packaged {@code node-agent/target/quarkus-app}) started with the
 * production DaemonSet's environment, on the layout the gateway install script writes, against a
 * real Mosquitto with the production broker configuration and the real script's certificates. Only
 * what belongs to the pod is replaced: the node name and the broker address, the host paths (moved
 * below a temporary root) and the management port (a free one).
 */
class AgentOnFleetBrokerIT {
  private static final String NODE = "gw-e2e";

  @TempDir Path tmp;

  @Test
  void agentWithTheDaemonSetsSettings_connectsServesItsProbesAndAnswersTheController()
      throws Exception {
    Path jar = Repo.root().resolve("node-agent/target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          jar
              + " is missing: build the agent first (./mvnw -B -pl node-agent -am package"
              + " -DskipTests); a reactor build packages it before deploy-tests.");
    }
    FleetPki pki = new FleetPki(tmp.resolve("pki"));
    pki.run("init");
    pki.run("broker", "--dns", "localhost", "--ip", "127.0.0.1");
    pki.run("node", NODE);
    pki.run("controller", "--replicas", "1");
    Path certs = Files.createDirectories(tmp.resolve("certs"));
    Files.copy(pki.dir.resolve("ca/ca.crt"), certs.resolve("ca.crt"));
    Files.copy(pki.dir.resolve("broker/tls.crt"), certs.resolve("tls.crt"));
    Files.copy(pki.dir.resolve("broker/tls.key"), certs.resolve("tls.key"));
    Files.copy(pki.dir.resolve("ca/crl.pem"), certs.resolve("crl.pem"));

    Rendered prod = Rendered.of("overlays/production");
    ConfigMap mosquitto = prod.get(ConfigMap.class, "mosquitto-config");
    FleetBroker started = null;
    try (FleetBroker broker =
        FleetBroker.start(
            mosquitto.getData().get("mosquitto.conf"),
            mosquitto.getData().get("acl"),
            certs,
            tmp.resolve("broker"))) {
      started = broker;
      Path root = installGateway(pki, broker);
      String site = prod.get(ConfigMap.class, "edgeslm-site").getData().get("site");
      NodeTopics topics = Topics.node(site, NODE);

      try (TestClient ctl = TestClient.connect(broker.url(), "controller-0", pki.controller(0))) {
        assertThat(ctl.subscribe(topics.status())).isLessThan(0x80);
        assertThat(ctl.subscribe(topics.birth())).isLessThan(0x80);
        assertThat(ctl.subscribe("fleet/v1/controller-0/reply")).isLessThan(0x80);

        int managementPort = freePort();
        Process agent = startAgent(prod, jar, root, broker, managementPort);
        try {
          HttpClient http = HttpClient.newHttpClient();
          // The DaemonSet's probes, on the running agent.
          for (String path : List.of("/q/health/started", "/q/health/live", "/q/health/ready")) {
            awaitHttp200(http, "http://127.0.0.1:" + managementPort + path, agent);
          }
          ctl.await(
              r -> r.topic().equals(topics.status()) && r.payload().contains("\"online\""),
              "the agent's retained online status");
          ctl.awaitTopic(topics.birth());

          // "Ask a node" as the controller does it: the answer comes back on the replica's topic.
          MqttProperties props = new MqttProperties();
          props.setResponseTopic("fleet/v1/controller-0/reply");
          props.setCorrelationData("fq-e2e".getBytes(StandardCharsets.UTF_8));
          assertThat(
                  ctl.publish(
                      topics.ask(),
                      "{\"schemaVersion\":1,\"question\":\"What do you measure?\"}",
                      false,
                      props))
              .isLessThan(0x80);
          var answer = ctl.awaitTopic("fleet/v1/controller-0/reply");
          assertThat(answer.payload()).contains("\"schemaVersion\":1");
          assertThat(answer.properties().getCorrelationData())
              .isEqualTo("fq-e2e".getBytes(StandardCharsets.UTF_8));

          // The update link (on the agent's one connection) reads the node's assignments and
          // writes its results: an unreadable assignment is answered.
          assertThat(ctl.subscribe(topics.updateResult())).isLessThan(0x80);
          assertThat(
                  ctl.publish(
                      topics.updateAssignment(),
                      "{\"schemaVersion\":1,\"assignmentId\":\"a-e2e-1\"}",
                      false))
              .isLessThan(0x80);
          var result = ctl.awaitTopic(topics.updateResult());
          assertThat(result.payload()).contains("a-e2e-1").contains("malformed_assignment");
          assertThat(ctl.connected()).isTrue();
          assertThat(agent.isAlive()).isTrue();
        } finally {
          agent.destroy();
          if (!agent.waitFor(60, TimeUnit.SECONDS)) {
            agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
          }
        }
        // A clean stop publishes the retained offline status (terminationGracePeriodSeconds).
        ctl.await(
            r -> r.topic().equals(topics.status()) && r.payload().contains("\"offline\""),
            "the agent's offline status after SIGTERM");
      }
    }
    // Mosquitto's log (connection_messages, flushed when it stopped): the agent came in on one
    // connection as the node's identity, which carried the update traffic too, and nothing pushed
    // it out.
    String log = started.log();
    assertThat(log).containsPattern("as " + NODE + " \\(.*u'" + NODE + "'\\)");
    assertThat(log).doesNotContain("as " + NODE + "-update");
    assertThat(log).doesNotContain("already connected, closing old connection");
  }

  /** deploy/gateway/install-agent.sh below a temporary root, with a real release key. */
  private Path installGateway(FleetPki pki, FleetBroker broker) throws Exception {
    Path app = Files.createDirectories(tmp.resolve("stub-app"));
    Files.writeString(app.resolve("quarkus-run.jar"), "the test runs the real one in place");
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    Path key =
        Files.writeString(
            tmp.resolve("release.pub.pem"),
            "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'})
                    .encodeToString(g.generateKeyPair().getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
    Path root = tmp.resolve("root");
    Process p =
        new ProcessBuilder(
                "bash",
                Repo.root().resolve("deploy/gateway/install-agent.sh").toString(),
                "--root",
                root.toString(),
                "--node-id",
                NODE,
                "--site",
                "plant-1",
                "--model",
                "phi-mini",
                "--broker",
                broker.url(),
                "--tls",
                pki.dir.resolve("nodes/" + NODE).toString(),
                "--release-key",
                key.toString(),
                "--app",
                app.toString(),
                "--java-home",
                System.getProperty("java.home"))
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("install.log").toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(tmp.resolve("install.log"))).isZero();
    return root;
  }

  private Process startAgent(
      Rendered prod, Path jar, Path root, FleetBroker broker, int managementPort)
      throws IOException {
    Container c =
        prod.get(DaemonSet.class, "node-agent")
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    Map<String, String> env =
        PodEnv.reRoot(PodEnv.resolve(prod, c, Map.of("spec.nodeName", NODE), Map.of()), root);
    env.put("EDGESLM_AGENT_BROKER_URL", broker.url());
    env.put("EDGESLM_MANAGEMENT_PORT", Integer.toString(managementPort));
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(List.of(env.remove("JAVA_OPTS").trim().split("\\s+")));
    cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("agent.log").toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  private void awaitHttp200(HttpClient http, String url, Process agent) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    String last = "no answer";
    while (System.nanoTime() < end) {
      if (!agent.isAlive()) {
        throw new AssertionError(
            "The agent exited with "
                + agent.exitValue()
                + ". Its log:\n"
                + Files.readString(tmp.resolve("agent.log")));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError(
        url
            + " never answered 200 (last: "
            + last
            + "). Agent log:\n"
            + Files.readString(tmp.resolve("agent.log")));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
