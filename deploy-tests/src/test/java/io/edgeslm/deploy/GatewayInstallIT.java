package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.AgentConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd install path for gateways without Kubernetes (deploy/gateway/install-agent.sh), run
 * for real below a temporary root: it lays out the same files, paths and settings as the DaemonSet.
 */
class GatewayInstallIT {
  @TempDir static Path tmp;
  private static FleetPki pki;
  private static Path app;
  private static Path key;

  @BeforeAll
  static void prepare() throws Exception {
    pki = new FleetPki(tmp.resolve("pki"));
    pki.run("init");
    pki.run("node", "gw-0042", "gw-0043");
    app = Files.createDirectories(tmp.resolve("quarkus-app"));
    Files.createDirectories(app.resolve("lib"));
    Files.writeString(app.resolve("quarkus-run.jar"), "stand-in for the fast-jar");
    key = Files.writeString(tmp.resolve("release.pub.pem"), "-----BEGIN PUBLIC KEY-----\n");
  }

  private static Result install(Path root, String nodeId, String tlsOf) throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "bash",
                Repo.root().resolve("deploy/gateway/install-agent.sh").toString(),
                "--root",
                root.toString(),
                "--node-id",
                nodeId,
                "--site",
                "plant-7",
                "--model",
                "phi-mini",
                "--broker",
                "ssl://mqtt.plant-7.example:8883",
                "--tls",
                pki.dir.resolve("nodes/" + tlsOf).toString(),
                "--release-key",
                key.toString(),
                "--app",
                app.toString(),
                "--java-home",
                "/usr/lib/jvm/test-jdk"));
    Path log = Files.createTempFile(tmp, "install-", ".log");
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("install-agent.sh hung");
    }
    return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  record Result(int exitCode, String output) {}

  @Test
  void install_laysOutTheDaemonSetsFilesAndSettings() throws Exception {
    Path root = tmp.resolve("root");
    Result r = install(root, "gw-0042", "gw-0042");
    assertThat(r.exitCode()).as(r.output()).isZero();

    for (String f :
        List.of(
            "opt/edgeslm/agent/quarkus-app/quarkus-run.jar",
            "etc/edgeslm/tls/node.crt",
            "etc/edgeslm/tls/node.key",
            "etc/edgeslm/tls/ca.crt",
            "etc/edgeslm/trust/release.pub.pem",
            "etc/systemd/system/edgeslm-agent.service")) {
      assertThat(root.resolve(f)).isRegularFile();
    }
    for (String d :
        List.of(
            "var/lib/edgeslm-agent/journal", "var/lib/edgeslm-agent/data", "media/edgeslm-usb")) {
      assertThat(root.resolve(d)).isDirectory();
    }
    assertThat(Files.readString(root.resolve("etc/systemd/system/edgeslm-agent.service")))
        .isEqualTo(
            Files.readString(
                Repo.root().resolve("node-agent/src/main/deploy/edgeslm-agent.service")));
    assertThat(
            Files.readString(
                root.resolve("etc/systemd/system/edgeslm-agent.service.d/10-gateway.conf")))
        .contains("Environment=JAVA_HOME=/usr/lib/jvm/test-jdk")
        .contains("ReadWritePaths=/media/edgeslm-usb");

    Properties props = new Properties();
    try (var in = Files.newBufferedReader(root.resolve("etc/edgeslm/agent.properties"))) {
      props.load(in);
    }
    AppConfigKeys keys =
        AppConfigKeys.of(
            "node-agent",
            AgentConfig.class,
            Repo.root().resolve("node-agent/src/main/resources/application.properties"));
    for (String k : props.stringPropertyNames()) {
      String env = k.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
      assertThat(keys.keyFor(env))
          .as("agent.properties key %s is one the agent reads", k)
          .isPresent();
    }
    assertThat(props)
        .containsEntry("edgeslm.agent.node-id", "gw-0042")
        .containsEntry("edgeslm.agent.site", "plant-7")
        .containsEntry("edgeslm.agent.model.name", "phi-mini")
        .containsEntry("edgeslm.agent.broker.url", "ssl://mqtt.plant-7.example:8883");

    // Every file or directory the DaemonSet configures the agent with has the same value here.
    Rendered prod = Rendered.of("overlays/production");
    Map<String, String> env = ManifestsIT.effectiveEnv(prod, ManifestsIT.agent(prod));
    int compared = 0;
    for (var e : env.entrySet()) {
      String value = e.getValue();
      if (value == null || !value.startsWith("/") || e.getKey().equals("EDGESLM_CONFIG")) {
        continue;
      }
      String key = keys.keyFor(e.getKey()).orElseThrow();
      assertThat(props.getProperty(key)).as("%s (%s)", key, e.getKey()).isEqualTo(value);
      assertThat(root.resolve(value.substring(1))).as("%s exists after install", value).exists();
      compared++;
    }
    assertThat(compared).isGreaterThanOrEqualTo(6);
    assertThat(env).containsEntry("EDGESLM_CONFIG", "/etc/edgeslm/agent.properties");

    // A second run keeps the technician's edited configuration.
    Files.writeString(
        root.resolve("etc/edgeslm/agent.properties"),
        "# edited\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertThat(install(root, "gw-0042", "gw-0042").exitCode()).isZero();
    assertThat(Files.readString(root.resolve("etc/edgeslm/agent.properties")))
        .endsWith("# edited\n");
  }

  @Test
  void install_refusesAnotherNodesCertificate() throws Exception {
    Result r = install(tmp.resolve("root-wrong-cert"), "gw-0042", "gw-0043");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.output())
        .contains("is for 'gw-0043', not 'gw-0042': the broker uses the CN as the node's identity");
    assertThat(tmp.resolve("root-wrong-cert/etc/edgeslm")).doesNotExist();
  }

  @Test
  void fleetPki_refusesReservedAndInvalidNodeIdsAndDuplicates() throws Exception {
    FleetPki.ScriptFailed reserved = fails("node", "controller-9");
    assertThat(reserved.output)
        .contains(
            "node id 'controller-9' starts with 'controller-', which is reserved for"
                + " fleet-controller replicas; choose another id");
    FleetPki.ScriptFailed invalid = fails("node", "line/3");
    assertThat(invalid.output)
        .contains(
            "node id 'line/3' is not a valid topic level: use 1-64 of A-Z a-z 0-9 _ . - starting"
                + " with a letter or digit");
    FleetPki.ScriptFailed twice = fails("node", "gw-0042");
    assertThat(twice.output).contains("a valid certificate for 'gw-0042' exists already");
  }

  private static FleetPki.ScriptFailed fails(String... args)
      throws IOException, InterruptedException {
    try {
      pki.run(args);
    } catch (FleetPki.ScriptFailed e) {
      return e;
    }
    throw new AssertionError("fleet-pki.sh " + String.join(" ", args) + " succeeded");
  }
}
