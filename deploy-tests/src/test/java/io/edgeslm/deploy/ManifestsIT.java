package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.fleet.internal.config.FleetConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every overlay of deploy/k3s rendered by the real kubectl, validated against the Kubernetes API
 * model, and checked against what the applications really serve and read.
 */
class ManifestsIT {
  private static final String AGENT_IMAGE = "edgeslm-node-agent";
  private static final String CONTROLLER_IMAGE = "edgeslm-fleet-controller";

  /**
   * Objects the installer creates (docs/deployment.md lists each with its command); the manifests
   * only reference them. Nothing secret is in the repository.
   */
  private static final Set<String> INSTALL_TIME_OBJECTS =
      Set.of(
          "postgres-credentials",
          "fleet-controller-mqtt",
          "mqtt-broker-tls",
          "fleet-controller-bootstrap",
          "fleet-controller-tls",
          "emqx-dashboard",
          "fleet-trust");

  /**
   * Environment variables that are no configuration key: the JVM options the images' entrypoint
   * passes to java (deploy/images), and variables that exist only to be expanded in another
   * variable's value (checked: each must be referenced as $(NAME)).
   */
  private static final Set<String> ENTRYPOINT_ENV = Set.of("JAVA_OPTS");

  private static AppConfigKeys agentKeys;
  private static AppConfigKeys controllerKeys;

  @BeforeAll
  static void readApplications() throws IOException {
    agentKeys =
        AppConfigKeys.of(
            "node-agent",
            AgentConfig.class,
            Repo.root().resolve("node-agent/src/main/resources/application.properties"));
    // FleetConfig lives in the controller's internal package; a test-only module may read it here
    // because the configuration interface is exactly what the manifests must match.
    controllerKeys =
        AppConfigKeys.of(
                "fleet-controller",
                FleetConfig.class,
                Repo.root().resolve("fleet-controller/src/main/resources/application.properties"))
            // Quarkus's own keys the controller's manifests set, beyond the packaged file: the
            // default datasource switch and the PostgreSQL password (docs/fleet-controller.md,
            // "Production"), and where HTTP uploads are spooled (Quarkus HTTP reference).
            .withQuarkusKeys(
                "quarkus.datasource.active",
                "quarkus.datasource.pg.password",
                "quarkus.http.body.uploads-directory");
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void overlay_rendersAndEveryObjectValidatesStrictly(String overlay) throws Exception {
    Rendered r = Rendered.of(overlay);
    System.out.printf(
        "%s: %d objects rendered by %s%n", overlay, r.objects.size(), Kubectl.version());
    for (HasMetadata o : r.objects) {
      if (!(o instanceof Namespace)) {
        assertThat(o.getMetadata().getNamespace())
            .as("%s %s namespace", o.getKind(), o.getMetadata().getName())
            .isEqualTo("edgeslm");
      }
      assertThat(o.getMetadata().getLabels())
          .as("%s %s labels", o.getKind(), o.getMetadata().getName())
          .containsEntry("app.kubernetes.io/part-of", "edgeslm");
    }
    assertThat(r.find(StatefulSet.class, "controller")).isPresent();
    assertThat(r.find(DaemonSet.class, "node-agent")).isPresent();
    assertThat(r.find(Service.class, "mqtt")).isPresent();
    assertThat(r.find(Service.class, "postgres")).isPresent();
  }

  @Test
  void strictValidation_refusesUnknownFieldsWrongTypesAndWrongApiVersions() throws Exception {
    // The checks above are only worth something if they fail: three broken objects.
    var yaml =
        new com.fasterxml.jackson.databind.ObjectMapper(
            new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
    var unknownField =
        yaml.readTree(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n  template:\n"
                + "    spec:\n      containers:\n        - name: a\n          image: i\n"
                + "          livenessProbe: {httpGet: {path: /q/health/live, port: 9000},"
                + " periodSecond: 5}\n");
    var wrongType =
        yaml.readTree(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\n"
                + "spec: {replicas: \"two\"}\n");
    var wrongVersion =
        yaml.readTree("apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: x}\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rendered.strict("t", unknownField))
        .hasMessageContaining("spec.template.spec.containers[0].livenessProbe.periodSecond");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rendered.strict("t", wrongType))
        .hasMessageContaining("does not match the API schema");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rendered.strict("t", wrongVersion))
        .hasMessageContaining("the API serves Ingress as 'networking.k8s.io/v1'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void noSecretIsInTheRepository_onlyReferencesToInstallTimeObjects(String overlay)
      throws Exception {
    Rendered r = Rendered.of(overlay);
    assertThat(r.all(Secret.class)).as("Secret objects rendered from the repository").isEmpty();
    Set<String> present = new TreeSet<>();
    r.objects.forEach(o -> present.add(o.getMetadata().getName()));
    String deploymentDoc = Files.readString(Repo.root().resolve("docs/deployment.md"));
    for (var e : r.podTemplates().entrySet()) {
      PodSpec spec = e.getValue().getSpec();
      for (String ref : references(spec)) {
        if (!present.contains(ref)) {
          assertThat(INSTALL_TIME_OBJECTS)
              .as(
                  "%s %s references '%s', which is neither rendered nor created at install time",
                  overlay, e.getKey(), ref)
              .contains(ref);
          assertThat(deploymentDoc)
              .as("docs/deployment.md tells the installer how to create '%s'", ref)
              .contains(ref);
        }
      }
      for (Container c : spec.getContainers()) {
        for (EnvVar v : env(c)) {
          if (v.getName().matches("(?i).*(PASSWORD|TOKEN|SECRET|_KEY$).*")) {
            assertThat(v.getValue())
                .as(
                    "%s %s env %s must come from a Secret, not a literal",
                    overlay, e.getKey(), v.getName())
                .isNull();
            assertThat(v.getValueFrom().getSecretKeyRef()).isNotNull();
          }
        }
      }
    }
    for (ConfigMap cm : r.all(ConfigMap.class)) {
      for (var d : cm.getData().entrySet()) {
        assertThat(d.getKey())
            .as("%s ConfigMap %s holds no passwords or tokens", overlay, cm.getMetadata().getName())
            .doesNotContainIgnoringCase("password")
            .doesNotContainIgnoringCase("token");
        assertThat(d.getValue()).doesNotContain("PRIVATE KEY-----");
      }
    }
  }

  @Test
  void deployTree_holdsNoPrivateKeysNorSecretManifests() throws IOException {
    try (Stream<Path> files = Files.walk(Repo.root().resolve("deploy"))) {
      // A technician's fleet-pki output (git-ignored) may lie below deploy/; it is not the repo's.
      for (Path f :
          files
              .filter(Files::isRegularFile)
              .filter(f -> !f.toString().contains("/fleet-pki/"))
              .toList()) {
        String text = Files.readString(f);
        assertThat(text).as("%s", f).doesNotContain("PRIVATE KEY-----");
        assertThat(text).as("%s", f).doesNotContainPattern("(?m)^kind:\\s*Secret\\s*$");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void applicationImages_areTheApplicationsNamedAtTheProjectVersion(String overlay) {
    Rendered r = Rendered.of(overlay);
    String agentName = agentKeys.property("quarkus.application.name").orElseThrow();
    String controllerName = controllerKeys.property("quarkus.application.name").orElseThrow();
    assertThat(agentName).isEqualTo(AGENT_IMAGE);
    assertThat(controllerName).isEqualTo(CONTROLLER_IMAGE);
    assertThat(agent(r).getImage())
        .isEqualTo("ghcr.io/edgeslm/" + agentName + ":" + Repo.version());
    assertThat(controller(r).getImage())
        .isEqualTo("ghcr.io/edgeslm/" + controllerName + ":" + Repo.version());
    // The images are built from deploy/images, whose entrypoint reads JAVA_OPTS.
    for (String app : List.of("node-agent", "fleet-controller")) {
      Path containerfile = Repo.root().resolve("deploy/images/" + app + ".Containerfile");
      assertThat(containerfile).exists();
      assertThat(read(containerfile)).contains("JAVA_OPTS").contains("quarkus-run.jar");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void agentProbes_pointAtTheHealthEndpointsOnTheManagementPort(String overlay) {
    Rendered r = Rendered.of(overlay);
    Container agent = agent(r);
    Map<String, String> env = effectiveEnv(r, agent);
    // The agent serves health on its management interface (edgeslm.management.*, ADR 0024): port
    // from EDGESLM_MANAGEMENT_PORT, bound to EDGESLM_MANAGEMENT_HOST (loopback by default, which
    // the kubelet could not reach).
    assertThat(agentKeys.property("edgeslm.management.port"))
        .contains("${EDGESLM_MANAGEMENT_PORT:9000}");
    assertThat(agentKeys.property("edgeslm.management.host"))
        .contains("${EDGESLM_MANAGEMENT_HOST:127.0.0.1}");
    int port = Integer.parseInt(env.getOrDefault("EDGESLM_MANAGEMENT_PORT", "9000"));
    assertThat(env).containsEntry("EDGESLM_MANAGEMENT_HOST", "0.0.0.0");
    assertProbes(overlay, agent, port);
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void controllerManagementPort_servesTheProbesAndIsReachableOnlyInsideTheCluster(String overlay) {
    Rendered r = Rendered.of(overlay);
    Container controller = controller(r);
    Map<String, String> env = effectiveEnv(r, controller);
    // Health, metrics and OpenAPI are on the controller's management interface
    // (quarkus.management.*), on loopback unless the pod binds it for the kubelet.
    assertThat(controllerKeys.property("quarkus.management.enabled")).contains("true");
    assertThat(controllerKeys.property("quarkus.management.host")).contains("127.0.0.1");
    assertThat(env).containsEntry("QUARKUS_MANAGEMENT_HOST", "0.0.0.0");
    int management =
        Integer.parseInt(
            env.getOrDefault(
                "QUARKUS_MANAGEMENT_PORT",
                controllerKeys.property("quarkus.management.port").orElseThrow()));
    int http = Integer.parseInt(controllerKeys.property("quarkus.http.port").orElseThrow());
    assertThat(management).isNotEqualTo(http);
    assertProbes(overlay, controller, management);

    // The Ingress reaches the HTTP port only: every backend is a Service port that targets it.
    List<Ingress> ingresses = r.all(Ingress.class);
    assertThat(ingresses).isNotEmpty();
    for (Ingress ingress : ingresses) {
      for (var rule : ingress.getSpec().getRules()) {
        for (var path : rule.getHttp().getPaths()) {
          var backend = path.getBackend().getService();
          Service svc = r.get(Service.class, backend.getName());
          ServicePort sp =
              svc.getSpec().getPorts().stream()
                  .filter(p -> p.getName().equals(backend.getPort().getName()))
                  .findFirst()
                  .orElseThrow();
          assertThat(containerPort(controller, sp.getTargetPort()))
              .as("%s Ingress %s backend %s", overlay, ingress.getMetadata().getName(), svc)
              .isEqualTo(http);
        }
      }
    }
    // The management port is published by one ClusterIP Service, which no Ingress names, and by
    // no NodePort or LoadBalancer Service.
    List<Service> managementServices = new ArrayList<>();
    for (Service s : r.all(Service.class)) {
      boolean selectsController =
          s.getSpec().getSelector() != null
              && "fleet-controller".equals(s.getSpec().getSelector().get("app.kubernetes.io/name"));
      if (!selectsController) {
        continue;
      }
      for (ServicePort p : s.getSpec().getPorts()) {
        if (containerPort(controller, p.getTargetPort()) == management) {
          managementServices.add(s);
        }
      }
    }
    assertThat(managementServices)
        .extracting(s -> s.getMetadata().getName())
        .containsExactly("fleet-controller-management");
    Service svc = managementServices.get(0);
    assertThat(Optional.ofNullable(svc.getSpec().getType()).orElse("ClusterIP"))
        .isEqualTo("ClusterIP");
    for (Ingress ingress : ingresses) {
      for (var rule : ingress.getSpec().getRules()) {
        for (var path : rule.getHttp().getPaths()) {
          assertThat(path.getBackend().getService().getName())
              .isNotEqualTo(svc.getMetadata().getName());
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void everyEnvironmentVariable_setsAKeyTheApplicationReads(String overlay) {
    Rendered r = Rendered.of(overlay);
    for (var app :
        List.of(Map.entry(agent(r), agentKeys), Map.entry(controller(r), controllerKeys))) {
      Container c = app.getKey();
      AppConfigKeys keys = app.getValue();
      Map<String, String> env = effectiveEnv(r, c);
      List<String> unknown = new ArrayList<>();
      for (String name : env.keySet()) {
        if (ENTRYPOINT_ENV.contains(name) || keys.keyFor(name).isPresent()) {
          continue;
        }
        boolean expandedElsewhere =
            env.values().stream().anyMatch(v -> v != null && v.contains("$(" + name + ")"));
        if (!expandedElsewhere) {
          unknown.add(name);
        }
      }
      assertThat(unknown)
          .as(
              "%s: environment of %s that no configuration key of the application reads (%s)",
              overlay, c.getName(), keys.keys())
          .isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void everyFileTheApplicationsAreConfiguredWith_isOnAVolume(String overlay) {
    Rendered r = Rendered.of(overlay);
    for (Container c : List.of(agent(r), controller(r))) {
      Map<String, String> env = effectiveEnv(r, c);
      for (var e : env.entrySet()) {
        for (String path : absolutePaths(e.getValue())) {
          String resolved = path.replace("$(POD_NAME)", "controller-0");
          assertThat(c.getVolumeMounts().stream().map(VolumeMount::getMountPath))
              .as("%s %s: %s=%s lies on a mounted volume", overlay, c.getName(), e.getKey(), path)
              .anyMatch(m -> resolved.equals(m) || resolved.startsWith(m + "/"));
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void servicesSelectPodsAndTheirPortsExist(String overlay) {
    Rendered r = Rendered.of(overlay);
    for (Service s : r.all(Service.class)) {
      if ("ExternalName".equals(s.getSpec().getType())) {
        continue;
      }
      Map<String, String> selector = s.getSpec().getSelector();
      List<PodTemplateSpec> pods =
          r.podTemplates().values().stream()
              .filter(t -> t.getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
              .toList();
      assertThat(pods)
          .as("%s Service %s selects pods", overlay, s.getMetadata().getName())
          .isNotEmpty();
      for (ServicePort p : s.getSpec().getPorts()) {
        for (PodTemplateSpec t : pods) {
          assertThat(containerPort(t.getSpec().getContainers().get(0), p.getTargetPort()))
              .as("%s Service %s port %s", overlay, s.getMetadata().getName(), p.getName())
              .isPositive();
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production", "overlays/large-fleet"})
  void agentDaemonSet_runsOnArm64AndAmd64GatewaysWithHostState(String overlay) {
    Rendered r = Rendered.of(overlay);
    PodSpec spec = r.get(DaemonSet.class, "node-agent").getSpec().getTemplate().getSpec();
    assertThat(spec.getNodeSelector()).containsEntry("edgeslm.io/gateway", "true");
    var terms =
        spec.getAffinity()
            .getNodeAffinity()
            .getRequiredDuringSchedulingIgnoredDuringExecution()
            .getNodeSelectorTerms();
    assertThat(terms.get(0).getMatchExpressions())
        .anySatisfy(
            e -> {
              assertThat(e.getKey()).isEqualTo("kubernetes.io/arch");
              assertThat(e.getValues()).containsExactlyInAnyOrder("arm64", "amd64");
            });
    Map<String, String> hostPaths = new LinkedHashMap<>();
    for (Volume v : spec.getVolumes()) {
      if (v.getHostPath() != null) {
        hostPaths.put(v.getName(), v.getHostPath().getPath());
      }
    }
    // The same paths as the systemd install (deploy/gateway/install-agent.sh).
    assertThat(hostPaths.values())
        .contains("/etc/edgeslm", "/var/lib/edgeslm-agent", "/media/edgeslm-usb");
    assertThat(agent(r).getResources().getLimits()).containsKey("memory");
  }

  @ParameterizedTest
  @ValueSource(strings = {"overlays/dev", "overlays/production"})
  void mosquitto_maxPacketSizeHoldsAChunkAndAclHasABlockPerControllerReplica(String overlay) {
    Rendered r = Rendered.of(overlay);
    ConfigMap cm = r.get(ConfigMap.class, "mosquitto-config");
    String conf = cm.getData().get("mosquitto.conf");
    Matcher m = Pattern.compile("(?m)^\\s*max_packet_size (\\d+)").matcher(conf);
    assertThat(m.find()).as("max_packet_size in %s", overlay).isTrue();
    long maxPacket = Long.parseLong(m.group(1));
    int chunk =
        Integer.parseInt(
            r.get(ConfigMap.class, "fleet-controller-env")
                .getData()
                .get("FLEET_BUNDLES_CHUNK_BYTES"));
    // A chunk travels with its topic and MQTT 5 user properties (ChunkHeader): keep 64 KiB spare.
    assertThat(maxPacket).isGreaterThanOrEqualTo(chunk + 65_536L);
    if (overlay.endsWith("production")) {
      String acl = cm.getData().get("acl");
      int replicas = r.get(StatefulSet.class, "controller").getSpec().getReplicas();
      for (int i = 0; i < replicas; i++) {
        assertThat(acl).containsPattern("(?m)^user controller-" + i + "$");
      }
    }
  }

  @Test
  void productionAndLargeFleet_useTlsEverywhere() {
    for (String overlay : List.of("overlays/production", "overlays/large-fleet")) {
      Rendered r = Rendered.of(overlay);
      assertThat(effectiveEnv(r, agent(r)).get("EDGESLM_AGENT_BROKER_URL")).startsWith("ssl://");
      assertThat(effectiveEnv(r, controller(r)).get("FLEET_MQTT_URI")).startsWith("ssl://");
      assertThat(r.get(Ingress.class, "fleet-controller").getSpec().getTls()).isNotEmpty();
      for (Service s : r.all(Service.class)) {
        for (ServicePort p : s.getSpec().getPorts()) {
          assertThat(p.getPort())
              .as("%s %s", overlay, s.getMetadata().getName())
              .isNotEqualTo(1883);
        }
      }
      assertThat(r.all(PersistentVolumeClaim.class)).isNotEmpty();
    }
    assertThat(
            Rendered.of("overlays/large-fleet")
                .get(StatefulSet.class, "controller")
                .getSpec()
                .getReplicas())
        .isGreaterThan(2);
  }

  // ---------------------------------------------------------------------------------------------

  private static void assertProbes(String overlay, Container c, int port) {
    Map<String, Probe> probes = new LinkedHashMap<>();
    probes.put("/q/health/live", c.getLivenessProbe());
    probes.put("/q/health/ready", c.getReadinessProbe());
    probes.put("/q/health/started", c.getStartupProbe());
    for (var p : probes.entrySet()) {
      assertThat(p.getValue())
          .as("%s %s probe for %s", overlay, c.getName(), p.getKey())
          .isNotNull();
      assertThat(p.getValue().getHttpGet().getPath()).isEqualTo(p.getKey());
      assertThat(containerPort(c, p.getValue().getHttpGet().getPort()))
          .as("%s %s probe %s port", overlay, c.getName(), p.getKey())
          .isEqualTo(port);
    }
  }

  private static int containerPort(Container c, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return c.getPorts().stream()
        .filter(p -> port.getStrVal().equals(p.getName()))
        .map(ContainerPort::getContainerPort)
        .findFirst()
        .orElseThrow(
            () -> new AssertionError(c.getName() + " has no port named " + port.getStrVal()));
  }

  static Container agent(Rendered r) {
    return r.get(DaemonSet.class, "node-agent")
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  private static Container controller(Rendered r) {
    return r.get(StatefulSet.class, "controller")
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  private static List<EnvVar> env(Container c) {
    return c.getEnv() == null ? List.of() : c.getEnv();
  }

  /** env plus envFrom ConfigMaps: name → literal value (null for valueFrom). */
  static Map<String, String> effectiveEnv(Rendered r, Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    if (c.getEnvFrom() != null) {
      for (EnvFromSource from : c.getEnvFrom()) {
        assertThat(from.getConfigMapRef()).as("%s envFrom is a ConfigMap", c.getName()).isNotNull();
        env.putAll(r.get(ConfigMap.class, from.getConfigMapRef().getName()).getData());
      }
    }
    for (EnvVar v : env(c)) {
      env.put(v.getName(), v.getValue());
    }
    return env;
  }

  private static final Pattern ABSOLUTE_PATH = Pattern.compile("(?:^|[=\\s,])(/[^\\s,]*)");

  private static List<String> absolutePaths(String value) {
    List<String> paths = new ArrayList<>();
    if (value == null || value.contains("://")) {
      return paths;
    }
    Matcher m = ABSOLUTE_PATH.matcher(value);
    while (m.find()) {
      paths.add(m.group(1));
    }
    return paths;
  }

  private static Set<String> references(PodSpec spec) {
    Set<String> refs = new TreeSet<>();
    for (Volume v : spec.getVolumes() == null ? List.<Volume>of() : spec.getVolumes()) {
      Optional.ofNullable(v.getConfigMap()).ifPresent(c -> refs.add(c.getName()));
      Optional.ofNullable(v.getSecret()).ifPresent(s -> refs.add(s.getSecretName()));
      Optional.ofNullable(v.getPersistentVolumeClaim()).ifPresent(p -> refs.add(p.getClaimName()));
    }
    for (Container c : spec.getContainers()) {
      for (EnvVar v : env(c)) {
        if (v.getValueFrom() != null) {
          Optional.ofNullable(v.getValueFrom().getSecretKeyRef())
              .ifPresent(s -> refs.add(s.getName()));
          Optional.ofNullable(v.getValueFrom().getConfigMapKeyRef())
              .ifPresent(s -> refs.add(s.getName()));
        }
      }
      if (c.getEnvFrom() != null) {
        c.getEnvFrom().forEach(f -> refs.add(f.getConfigMapRef().getName()));
      }
    }
    return refs;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new AssertionError("Cannot read " + p, e);
    }
  }
}
