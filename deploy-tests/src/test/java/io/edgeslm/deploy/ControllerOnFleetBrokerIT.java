package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.PostgresDatabase;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real fleet controller (the packaged {@code fleet-controller/target/quarkus-app}) started with
 * the production StatefulSet's environment, JVM options and mounted files, against a real Mosquitto
 * with the production broker configuration and a fresh database on the local PostgreSQL. Replaced,
 * as the pod's surroundings: the pod name ({@code controller-0}), the Secrets' values, the broker
 * and database addresses, the HTTP port (a free one), and the mount paths (below a temporary root).
 */
class ControllerOnFleetBrokerIT {
  private static final String NODE = "gw-ctl-e2e";

  @TempDir Path tmp;

  @Test
  void controllerWithTheStatefulSetsSettings_servesProbesRegistersNodesAndAsksThem()
      throws Exception {
    Path jar = Repo.root().resolve("fleet-controller/target/quarkus-app/quarkus-run.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          jar
              + " is missing: build the controller first (./mvnw -B -pl fleet-controller -am"
              + " package -DskipTests); a reactor build packages it before deploy-tests.");
    }
    FleetPki pki = new FleetPki(tmp.resolve("pki"));
    pki.run("init");
    pki.run("broker", "--dns", "localhost", "--ip", "127.0.0.1");
    pki.run("node", NODE);
    pki.run("controller", "--replicas", "2");
    Path certs = Files.createDirectories(tmp.resolve("certs"));
    for (String f : List.of("ca/ca.crt", "broker/tls.crt", "broker/tls.key", "ca/crl.pem")) {
      Files.copy(pki.dir.resolve(f), certs.resolve(Path.of(f).getFileName()));
    }
    Rendered prod = Rendered.of("overlays/production");
    ConfigMap mosquitto = prod.get(ConfigMap.class, "mosquitto-config");
    String token = UUID.randomUUID().toString() + UUID.randomUUID();

    try (FleetBroker broker =
            FleetBroker.start(
                mosquitto.getData().get("mosquitto.conf"),
                mosquitto.getData().get("acl"),
                certs,
                tmp.resolve("broker"));
        PostgresDatabase db = PostgresDatabase.createLocal()) {
      Path root = podFiles(pki);
      Container c =
          prod.get(StatefulSet.class, "controller")
              .getSpec()
              .getTemplate()
              .getSpec()
              .getContainers()
              .get(0);
      Map<String, String> env =
          PodEnv.reRoot(
              PodEnv.resolve(
                  prod,
                  c,
                  Map.of("metadata.name", "controller-0"),
                  Map.of(
                      "postgres-credentials/password",
                      db.password(),
                      "fleet-controller-bootstrap/token",
                      token,
                      "fleet-controller-mqtt/password",
                      new String(pki.password()))),
              root);
      int port = freePort();
      env.put("FLEET_MQTT_URI", broker.url());
      env.put("QUARKUS_DATASOURCE_PG_JDBC_URL", db.jdbcUrl());
      env.put("QUARKUS_DATASOURCE_PG_USERNAME", db.user());
      env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
      int managementPort = freePort();
      env.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(managementPort));
      assertThat(env).containsEntry("QUARKUS_MANAGEMENT_HOST", "0.0.0.0");
      assertThat(env).containsEntry("FLEET_MQTT_CLIENT_ID", "controller-0");
      assertThat(env.get("JAVA_OPTS")).contains(root + "/etc/edgeslm/mqtt/controller-0.p12");

      Process controller = start(jar, env);
      NodeTopics topics =
          Topics.node(prod.get(ConfigMap.class, "edgeslm-site").getData().get("site"), NODE);
      try (TestClient node = TestClient.connect(broker.url(), NODE, pki.node(NODE))) {
        String base = "http://127.0.0.1:" + port;
        HttpClient http = HttpClient.newHttpClient();
        // The StatefulSet's probes, on the management port; readiness includes the controller's
        // broker connection. The public port (the Ingress's) serves none of /q/*.
        String management = "http://127.0.0.1:" + managementPort;
        for (String path : List.of("/q/health/started", "/q/health/live", "/q/health/ready")) {
          awaitOk(http, management + path, null, controller);
          assertThat(
                  http.send(
                          HttpRequest.newBuilder(URI.create(base + path)).build(),
                          HttpResponse.BodyHandlers.ofString())
                      .statusCode())
              .as("public %s", path)
              .isEqualTo(404);
        }

        // Registry from the node's own retained messages, read through the controller's ACL.
        String now = Instant.now().toString();
        assertThat(node.publish(topics.status(), status(now), true)).isLessThan(0x80);
        assertThat(node.publish(topics.birth(), birth(now), true)).isLessThan(0x80);
        String nodeJson = awaitOk(http, base + "/api/v1/nodes/" + NODE, token, controller);
        assertThat(nodeJson).contains(NODE);

        // "Ask a node" through the REST API: question out on the node's ask topic, answer back on
        // controller-0's reply topic.
        assertThat(node.subscribe(topics.ask())).isLessThan(0x80);
        CompletableFuture<HttpResponse<String>> asked =
            http.sendAsync(
                HttpRequest.newBuilder(URI.create(base + "/api/v1/nodes/" + NODE + "/ask"))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(90))
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"question\":\"What is the oil temperature?\",\"timeoutSeconds\":60}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        var q = node.awaitTopic(topics.ask());
        MqttProperties reply = new MqttProperties();
        reply.setCorrelationData(q.properties().getCorrelationData());
        String answer = "Oil temperature 67 degrees, answered over the fleet broker";
        assertThat(q.properties().getResponseTopic()).isEqualTo("fleet/v1/controller-0/reply");
        assertThat(
                node.publish(
                    q.properties().getResponseTopic(),
                    "{\"type\":\"answer\",\"schemaVersion\":1,\"answer\":\""
                        + answer
                        + "\",\"sensors\":[],\"source\":\"rules\",\"timings\":{\"queueMs\":1,"
                        + "\"totalMs\":2,\"tokens\":0},\"answeredAt\":\""
                        + Instant.now()
                        + "\"}",
                    false,
                    reply))
            .isLessThan(0x80);
        HttpResponse<String> r = asked.get(120, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains(answer);
      } finally {
        controller.destroy();
        if (!controller.waitFor(60, TimeUnit.SECONDS)) {
          controller.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  private static String status(String now) {
    return "{\"schemaVersion\":1,\"state\":\"online\",\"since\":\"" + now + "\"}";
  }

  private static String birth(String now) {
    return "{\"schemaVersion\":1,\"agentVersion\":\"0.1.0-SNAPSHOT\",\"arch\":\"aarch64\","
        + "\"deviceClass\":\"generic\",\"ramBytes\":8589934592,\"labels\":{},\"bootedAt\":\""
        + now
        + "\",\"at\":\""
        + now
        + "\"}";
  }

  /** The files the StatefulSet mounts, below a root: MQTT identity, trust, bundle volume. */
  private Path podFiles(FleetPki pki) throws Exception {
    Path root = tmp.resolve("root");
    Path mqtt = Files.createDirectories(root.resolve("etc/edgeslm/mqtt"));
    for (String f : List.of("controller-0.p12", "controller-1.p12", "truststore.p12", "password")) {
      Files.copy(pki.dir.resolve("controller/" + f), mqtt.resolve(f));
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    Files.writeString(
        Files.createDirectories(root.resolve("etc/edgeslm/trust")).resolve("release.pub.pem"),
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(g.generateKeyPair().getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n");
    Files.createDirectories(root.resolve("var/lib/edgeslm-fleet/bundles"));
    Files.createDirectories(root.resolve("var/lib/edgeslm-fleet/uploads"));
    Files.createDirectories(root.resolve("tmp"));
    return root;
  }

  private Process start(Path jar, Map<String, String> env) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(List.of(env.remove("JAVA_OPTS").trim().split("\\s+")));
    cmd.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("controller.log").toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  private String awaitOk(HttpClient http, String url, String token, Process p) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    String last = "no answer";
    while (System.nanoTime() < end) {
      if (!p.isAlive()) {
        throw new AssertionError(
            "The controller exited with "
                + p.exitValue()
                + ". Its log:\n"
                + Files.readString(tmp.resolve("controller.log")));
      }
      try {
        var b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
        if (token != null) {
          b.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return r.body();
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
            + "). Controller log:\n"
            + Files.readString(tmp.resolve("controller.log"), StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
