package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.AgentConfig;
import java.io.IOException;
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
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    key =
        Files.writeString(
            tmp.resolve("release.pub.pem"),
            "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'})
                    .encodeToString(g.generateKeyPair().getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
  }

  private static Result install(Path root, String nodeId, String tlsOf, String... more)
      throws Exception {
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
                System.getProperty("java.home")));
    cmd.addAll(List.of(more));
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

  private static AppConfigKeys agentKeys() throws IOException {
    return AppConfigKeys.of(
        "node-agent",
        AgentConfig.class,
        Repo.root().resolve("node-agent/src/main/resources/application.properties"));
  }

  /** The installed agent.properties, each of whose keys must be one the agent reads. */
  private static Properties installedProperties(Path root) throws IOException {
    Properties props = new Properties();
    try (var in = Files.newBufferedReader(root.resolve("etc/edgeslm/agent.properties"))) {
      props.load(in);
    }
    AppConfigKeys keys = agentKeys();
    for (String k : props.stringPropertyNames()) {
      String env = k.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
      assertThat(keys.keyFor(env))
          .as("agent.properties key %s is one the agent reads", k)
          .isPresent();
    }
    return props;
  }

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
            "opt/edgeslm/agent/bin/edgeslm-agent-start",
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
        .contains("Environment=JAVA_HOME=" + System.getProperty("java.home"))
        .contains("ReadWritePaths=/media/edgeslm-usb");

    Properties props = installedProperties(root);
    AppConfigKeys keys = agentKeys();
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
  void install_withAPlantBroker_splitsPlantAndFleetTrafficAndKeepsTheIdentityOnTheFleetSide()
      throws Exception {
    Path root = tmp.resolve("root-plant");
    Result r =
        install(root, "gw-0042", "gw-0042", "--plant-broker", "tcp://plant-mqtt.plant-7.lan:1883");
    assertThat(r.exitCode()).as(r.output()).isZero();

    Properties props = installedProperties(root);
    assertThat(props)
        .containsEntry("edgeslm.agent.broker.url", "tcp://plant-mqtt.plant-7.lan:1883")
        .containsEntry("edgeslm.agent.fleet.broker.url", "ssl://mqtt.plant-7.example:8883")
        .containsEntry("edgeslm.agent.fleet.broker.tls.certificate", "/etc/edgeslm/tls/node.crt")
        .containsEntry("edgeslm.agent.fleet.broker.tls.private-key", "/etc/edgeslm/tls/node.key")
        .containsEntry("edgeslm.agent.fleet.broker.tls.ca", "/etc/edgeslm/tls/ca.crt")
        .doesNotContainKey("edgeslm.agent.broker.tls.certificate")
        .doesNotContainKey("edgeslm.agent.broker.tls.private-key");
  }

  @Test
  void install_refusesAPlantBrokerThatIsTheFleetBrokerOrNoUrl() throws Exception {
    Result same =
        install(
            tmp.resolve("root-plant-same"),
            "gw-0042",
            "gw-0042",
            "--plant-broker",
            "ssl://mqtt.plant-7.example:8883");
    assertThat(same.exitCode()).isNotZero();
    assertThat(same.output()).contains("--plant-broker names the fleet broker");
    Result bad =
        install(
            tmp.resolve("root-plant-bad"), "gw-0042", "gw-0042", "--plant-broker", "plant:1883");
    assertThat(bad.exitCode()).isNotZero();
    assertThat(bad.output())
        .contains("--plant-broker 'plant:1883' must be tcp://host:port or ssl://host:port");
    assertThat(tmp.resolve("root-plant-same/etc/edgeslm")).doesNotExist();
    assertThat(tmp.resolve("root-plant-bad/etc/edgeslm")).doesNotExist();
  }

  /**
   * What install-agent.sh copies to a gateway (and the image carries) holds no embedded broker:
   * HiveMQ CE and its RocksDB natives are the demo-broker module's, loaded only by ./run-agent.
   */
  @Test
  void gatewayArtifact_carriesNoEmbeddedBrokerJars() throws IOException {
    Path lib = Repo.root().resolve("node-agent/target/quarkus-app/lib");
    assertThat(lib.resolve("main"))
        .as("a reactor build packages the agent before deploy-tests")
        .isDirectory();
    List<String> jars;
    try (Stream<Path> files = Files.walk(lib)) {
      jars =
          files
              .map(f -> f.getFileName().toString())
              .filter(n -> n.endsWith(".jar"))
              .sorted()
              .toList();
    }
    assertThat(jars)
        .as("the agent's own libraries are there")
        .anyMatch(n -> n.startsWith("io.quarkus.quarkus-core-"))
        .anyMatch(n -> n.startsWith("io.edgeslm.edgeslm-protocol-"));
    assertThat(jars)
        .as("no embedded broker in the gateway artifact")
        .noneMatch(n -> n.startsWith("com.hivemq.hivemq-community-edition"))
        .noneMatch(n -> n.startsWith("com.hivemq.hivemq-extension-sdk"))
        .noneMatch(n -> n.startsWith("org.rocksdb."))
        .noneMatch(n -> n.startsWith("org.jetbrains.xodus."))
        .noneMatch(n -> n.startsWith("com.google.inject."));
  }

  /**
   * The installed unit's exact command line on Debian's Java 21: it starts, serves its probes, and
   * runs without AOT options (a JDK 21 JVM refuses them, and the service would fail at every
   * start).
   */
  @Test
  void installedUnit_onDebianJava21_startsWithoutAotOptions() throws Exception {
    try (UnitRun run = UnitRun.prepare(tmp.resolve("jdk21"), 21)) {
      run.startAndAwaitReady();
      assertThat(run.jvmArguments()).noneMatch(a -> a.startsWith("-XX:AOT"));
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.cacheFiles()).isEmpty();
    }
  }

  /**
   * On Debian's Java 25 the first start records an AOT cache, written when the service stops; the
   * next start uses it without a complaint from the JVM; reinstalling (an upgrade) removes it, and
   * the next start records a fresh one.
   */
  @Test
  void installedUnit_onDebianJava25_recordsTheAotCacheThenStartsFromItAndAnUpgradeRenewsIt()
      throws Exception {
    try (UnitRun run = UnitRun.prepare(tmp.resolve("jdk25"), 25)) {
      run.startAndAwaitReady();
      String cache = run.cacheOutput();
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.gateway.file(cache)).as(run.log()).isNotEmptyFile();

      run.startAndAwaitReady();
      assertThat(run.jvmArguments()).contains("-XX:AOTCache=" + cache);
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.log()).doesNotContainPattern("\\[(warning|error)\\s*\\]\\[aot");

      assertThat(run.install().exitCode()).isZero();
      assertThat(run.cacheFiles()).isEmpty();
      run.startAndAwaitReady();
      assertThat(run.jvmArguments()).anyMatch(a -> a.startsWith("-XX:AOTCacheOutput="));
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
    }
  }

  /**
   * A JDK upgrade under an existing AOT cache: the unit's JVM changes (here its JAVA_HOME names a
   * copy of the same Java 25 at another path, which changes {@code java.home}, one of the things
   * the launcher names the cache after; a package upgrade changes {@code java.vm.version}, another
   * one), so the next start records a new cache under a new name and removes the old one, which the
   * new JVM would refuse; the start after that uses the new cache without a complaint.
   */
  @Test
  void installedUnit_onDebianJava25_aJdkUpgradeUnderAnExistingCache_recordsANewOneAndRemovesTheOld()
      throws Exception {
    try (UnitRun run = UnitRun.prepare(tmp.resolve("jdk25-upgrade"), 25)) {
      run.startAndAwaitReady();
      String old = run.cacheOutput();
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.gateway.file(old)).as(run.log()).isNotEmptyFile();
      String oldName = Path.of(old).getFileName().toString();
      assertThat(run.cacheFiles()).containsExactly(oldName);

      String upgraded = run.javaHome + "-copy";
      run.gateway.copy(run.javaHome, upgraded);
      run.useJavaHome(upgraded);
      run.startAndAwaitReady();
      String renewed = run.cacheOutput(); // jvmArguments() checks that the copy runs
      assertThat(renewed).isNotEqualTo(old);
      assertThat(run.cacheDirectory())
          .as("the old cache, its lock and its configuration are gone")
          .noneMatch(n -> n.startsWith(oldName));
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.gateway.file(renewed)).as(run.log()).isNotEmptyFile();
      assertThat(run.cacheFiles()).containsExactly(Path.of(renewed).getFileName().toString());

      run.startAndAwaitReady();
      assertThat(run.jvmArguments()).contains("-XX:AOTCache=" + renewed);
      assertThat(run.stop()).as(run.log()).isEqualTo(143);
      assertThat(run.log()).doesNotContainPattern("\\[(warning|error)\\s*\\]\\[aot");
    }
  }

  /**
   * One gateway in a Debian 13 root, its agent on a real fleet broker, its unit started by hand.
   */
  private static final class UnitRun implements AutoCloseable {
    final DebianGateway gateway;
    final Path dir;
    final FleetBroker broker;
    String javaHome;
    final int managementPort;
    Process unit;
    Path log;
    int starts;

    private UnitRun(Path dir, DebianGateway gateway, FleetBroker broker, String javaHome)
        throws IOException {
      this.dir = dir;
      this.gateway = gateway;
      this.broker = broker;
      this.javaHome = javaHome;
      this.managementPort = freePort();
    }

    static UnitRun prepare(Path dir, int feature) throws Exception {
      Path jar = Repo.root().resolve("node-agent/target/quarkus-app/quarkus-run.jar");
      if (!Files.isRegularFile(jar)) {
        throw new AssertionError(
            jar + " is missing: a reactor build packages the agent before deploy-tests.");
      }
      DebianGateway gateway = DebianGateway.create(Files.createDirectories(dir));
      Path certs = Files.createDirectories(dir.resolve("certs"));
      Path brokerPki = dir.resolve("broker-pki");
      FleetPki own = new FleetPki(brokerPki);
      own.run("init");
      own.run("broker", "--dns", "localhost", "--ip", "127.0.0.1");
      own.run("node", "gw-0042");
      Files.copy(brokerPki.resolve("ca/ca.crt"), certs.resolve("ca.crt"));
      Files.copy(brokerPki.resolve("broker/tls.crt"), certs.resolve("tls.crt"));
      Files.copy(brokerPki.resolve("broker/tls.key"), certs.resolve("tls.key"));
      Files.copy(brokerPki.resolve("ca/crl.pem"), certs.resolve("crl.pem"));
      var mosquitto =
          Rendered.of("overlays/production")
              .get(io.fabric8.kubernetes.api.model.ConfigMap.class, "mosquitto-config")
              .getData();
      FleetBroker broker =
          FleetBroker.start(
              mosquitto.get("mosquitto.conf"), mosquitto.get("acl"), certs, dir.resolve("broker"));
      UnitRun run = new UnitRun(dir, gateway, broker, gateway.javaHome(feature));
      run.pki = own;
      Result r = run.install();
      assertThat(r.exitCode()).as(r.output()).isZero();
      // The technician's own drop-in: a free management port, since the test shares the machine.
      gateway.write(
          "/etc/systemd/system/edgeslm-agent.service.d/20-test-ports.conf",
          "[Service]\nEnvironment=EDGESLM_MANAGEMENT_PORT=" + run.managementPort + "\n");
      return run;
    }

    FleetPki pki;

    Result install() throws Exception {
      return gateway.install(
          Files.createTempFile(dir, "install-", ".log"),
          "--node-id",
          "gw-0042",
          "--site",
          "plant-7",
          "--model",
          "phi-mini",
          "--broker",
          broker.url(),
          "--tls",
          pki.dir.resolve("nodes/gw-0042").toString(),
          "--release-key",
          key.toString(),
          "--app",
          Repo.root().resolve("node-agent/target/quarkus-app").toString(),
          "--java-home",
          javaHome,
          "--no-start");
    }

    void startAndAwaitReady() throws Exception {
      log = dir.resolve("unit-" + ++starts + ".log");
      unit = gateway.startUnit(log);
      HttpClient http = HttpClient.newHttpClient();
      String url = "http://127.0.0.1:" + managementPort + "/q/health/ready";
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      String last = "no answer";
      while (System.nanoTime() < end) {
        if (!unit.isAlive()) {
          throw new AssertionError(
              "The unit's command exited with " + unit.exitValue() + ":\n" + log());
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
      throw new AssertionError(url + " never answered 200 (last: " + last + "):\n" + log());
    }

    List<String> jvmArguments() throws InterruptedException {
      ProcessHandle jvm = DebianGateway.jvm(unit);
      // Seen from outside the chroot, the JVM's path has the gateway's root in front.
      assertThat(jvm.info().command().orElseThrow()).endsWith("/merged" + javaHome + "/bin/java");
      return List.of(jvm.info().arguments().orElseThrow());
    }

    /** SIGTERM to the JVM, as systemctl stop sends it; returns the service's exit code. */
    int stop() throws Exception {
      DebianGateway.jvm(unit).destroy();
      if (!unit.waitFor(120, TimeUnit.SECONDS)) {
        unit.destroyForcibly();
        throw new AssertionError("the agent did not stop within 120 s:\n" + log());
      }
      return unit.exitValue();
    }

    /** The cache this start records (its -XX:AOTCacheOutput), which must be one. */
    String cacheOutput() throws InterruptedException {
      List<String> args = jvmArguments();
      String output =
          args.stream()
              .filter(a -> a.startsWith("-XX:AOTCacheOutput="))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no -XX:AOTCacheOutput in " + args));
      String cache = output.substring("-XX:AOTCacheOutput=".length());
      assertThat(cache).matches("/var/cache/edgeslm-agent/agent-[0-9]+\\.aot");
      return cache;
    }

    /**
     * Points the unit at another Java home, as a technician's drop-in after a JDK upgrade would
     * (the later drop-in wins over install-agent.sh's 10-gateway.conf).
     */
    void useJavaHome(String home) throws IOException {
      gateway.write(
          "/etc/systemd/system/edgeslm-agent.service.d/30-test-jdk.conf",
          "[Service]\nEnvironment=JAVA_HOME=" + home + "\n");
      javaHome = home;
    }

    /** Every file in the cache directory. */
    List<String> cacheDirectory() throws IOException {
      try (var s = Files.list(gateway.file("/var/cache/edgeslm-agent"))) {
        return s.map(p -> p.getFileName().toString()).sorted().toList();
      }
    }

    List<String> cacheFiles() throws IOException {
      Path cache = gateway.file("/var/cache/edgeslm-agent");
      try (var s = Files.list(cache)) {
        return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".aot")).toList();
      }
    }

    String log() {
      try {
        return log == null ? "" : Files.readString(log);
      } catch (IOException e) {
        return e.toString();
      }
    }

    @Override
    public void close() throws Exception {
      if (unit != null && unit.isAlive()) {
        unit.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      broker.close();
    }
  }

  private static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
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
