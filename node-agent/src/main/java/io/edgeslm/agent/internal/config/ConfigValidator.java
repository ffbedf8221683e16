package io.edgeslm.agent.internal.config;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.escalation.EscalationPolicy;
import io.edgeslm.agent.internal.escalation.EscalationSettings;
import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.agent.internal.tasks.OperatorQaTask;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.ReplyNamespace;
import io.edgeslm.protocol.Topics;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Checks an {@link AgentConfig} before anything starts. Pure: reads no clock and opens no socket;
 * it only asks the file system whether a configured model or key store exists.
 */
public final class ConfigValidator {

  static final String PREFIX = "edgeslm.agent.";

  /** A topic level we generate: no separators, wildcards, spaces or control characters. */
  private static final Pattern TOPIC_LEVEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");
  private static final Pattern LABEL_KEY = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
  private static final Set<String> BROKER_SCHEMES = Set.of("tcp", "ssl");
  private static final Set<String> SIMULATOR_MODES = Set.of("auto", "on", "off");
  private static final int MAX_LABELS = 32;
  private static final int MAX_LABEL_VALUE_CHARS = 128;
  private static final int MAX_SENSORS = 256;
  private static final int MAX_TOPIC_BYTES = 1024;

  private ConfigValidator() {}

  /**
   * Checks every value of {@code config} and derives the checked values.
   *
   * @param config the mapped configuration
   * @param hostName the node id used when none is configured (sanitized to a topic level)
   * @return the checked and derived values
   * @throws AgentConfigException for the first value that breaks a rule, naming key, value and rule
   */
  public static ValidatedConfig validate(AgentConfig config, String hostName)
      throws AgentConfigException {
    return validate(config, hostName, System.getenv());
  }

  /**
   * As {@link #validate(AgentConfig, String)}, with the environment the engine is looked up in
   * ({@code EDGESLM_LLAMA_SERVER}, {@code PATH}, {@code XDG_CACHE_HOME}, {@code HOME}).
   */
  public static ValidatedConfig validate(
      AgentConfig config, String hostName, Map<String, String> env) throws AgentConfigException {
    String nodeId = config.nodeId().orElseGet(() -> sanitizeHostName(hostName));
    topicLevel("node-id", nodeId);
    topicLevel("site", config.site());

    Map<String, String> labels = new TreeMap<>(config.labels());
    if (labels.size() > MAX_LABELS) {
      throw invalid("labels", labels.size() + " labels", "at most " + MAX_LABELS + " labels");
    }
    for (Map.Entry<String, String> label : labels.entrySet()) {
      if (!LABEL_KEY.matcher(label.getKey()).matches()) {
        throw invalid(
            "labels." + label.getKey(),
            label.getKey(),
            "a label name is 1-63 lower-case letters, digits, '.', '_' or '-'");
      }
      if (label.getValue().length() > MAX_LABEL_VALUE_CHARS
          || label.getValue().chars().anyMatch(Character::isISOControl)) {
        throw invalid(
            "labels." + label.getKey(),
            label.getValue(),
            "a label value has at most " + MAX_LABEL_VALUE_CHARS + " printable characters");
      }
    }

    AgentConfig.Broker broker = config.broker();
    Optional<URI> brokerUrl = connection("broker", broker);
    range("broker.embedded.port", broker.embeddedPort(), 1, 65_535);
    if (broker.embeddedHost().isBlank()) {
      throw invalid("broker.embedded.host", "", "a host name or address to bind to");
    }
    Optional<URI> fleetBrokerUrl = connection("fleet.broker", config.fleet().broker());
    if (fleetBrokerUrl.isPresent()
        && brokerUrl.isPresent()
        && sameBroker(fleetBrokerUrl.get(), brokerUrl.get())) {
      // Two connections with one client id to one broker would take each other's session over.
      throw invalid(
          "fleet.broker.url",
          fleetBrokerUrl.get().toString(),
          "a broker other than broker.url (leave fleet.broker.url unset to carry everything on"
              + " one connection)");
    }

    String simulatorMode = config.demo().simulator().toLowerCase(Locale.ROOT);
    if (!SIMULATOR_MODES.contains(simulatorMode)) {
      throw invalid("demo.simulator", config.demo().simulator(), "one of auto, on, off");
    }
    duration("demo.period", config.demo().period(), Duration.ofMillis(10), Duration.ofHours(1));

    List<SensorSpec> sensors = sensors(config.sensors());
    boolean simulator =
        switch (simulatorMode) {
          case "on" -> true;
          case "off" -> false;
          default -> brokerUrl.isEmpty() && sensors.isEmpty();
        };
    if (simulator && sensors.isEmpty()) {
      sensors = DemoSensors.specs(nodeId);
    }

    Optional<Path> modelPath = Optional.empty();
    if (config.model().path().isPresent() && !config.model().path().get().isBlank()) {
      Path path = path("model.path", config.model().path().get());
      if (!Files.exists(path)) {
        throw invalid(
            "model.path",
            config.model().path().get(),
            "the model file or bundle directory must exist (check the path, or remove the key to"
                + " run rule-based)");
      }
      modelPath = Optional.of(path);
    } else if (!config.model().rulesFallback()) {
      throw invalid(
          "model.rules-fallback",
          "false",
          "without edgeslm.agent.model.path the agent can only run rule-based: set a model path"
              + " or set rules-fallback=true");
    }

    AgentConfig.Model m = config.model();
    if (m.name().isPresent() && !IDENTIFIER.matcher(m.name().get()).matches()) {
      throw invalid("model.name", m.name().get(), "1-128 letters, digits, '.', '_', ':' or '-'");
    }
    range("model.version", m.version(), 1, Long.MAX_VALUE);
    range("model.threads", m.threads(), 0, 256);
    range("model.context", m.context(), 128, 1 << 20);
    range("model.answer-tokens", m.answerTokens(), 1, 4096);
    range("model.report-tokens", m.reportTokens(), 1, 4096);
    if (m.temperature().isPresent()
        && !(m.temperature().get() >= 0 && m.temperature().get() <= 2)) {
      throw invalid("model.temperature", m.temperature().get().toString(), "between 0 and 2");
    }
    duration(
        "model.answer-deadline", m.answerDeadline(), Duration.ofSeconds(1), Duration.ofHours(1));
    duration(
        "model.first-token-timeout",
        m.firstTokenTimeout(),
        Duration.ofSeconds(1),
        Duration.ofHours(1));
    // From the engines' first restart delay: a lower ceiling would be below the first step.
    duration(
        "model.restart-backoff-max",
        m.restartBackoffMax(),
        Duration.ofMillis(500),
        Duration.ofHours(1));
    if (!IDENTIFIER.matcher(config.deviceClass()).matches() || config.deviceClass().length() > 64) {
      throw invalid(
          "device-class", config.deviceClass(), "1-64 letters, digits, '.', '_', ':' or '-'");
    }

    duration(
        "report.interval", config.report().interval(), Duration.ofSeconds(1), Duration.ofDays(1));
    duration(
        "report.anomaly-debounce",
        config.report().anomalyDebounce(),
        Duration.ZERO,
        Duration.ofHours(1));

    AgentConfig.Qa qa = config.qa();
    range("qa.max-payload-bytes", qa.maxPayloadBytes(), 64, 1 << 20);
    range(
        "qa.max-question-chars",
        qa.maxQuestionChars(),
        1,
        io.edgeslm.protocol.Question.MAX_QUESTION_CHARS);
    range("qa.queue", qa.queue(), 1, 10_000);
    duration(
        "qa.default-timeout", qa.defaultTimeout(), Duration.ofMillis(100), Duration.ofHours(1));
    ReplyNamespace replies = replyNamespace(config.site(), nodeId, qa.replyPrefixes());

    duration(
        "health.interval", config.health().interval(), Duration.ofMillis(100), Duration.ofDays(1));

    AgentConfig.Journal journal = config.journal();
    Path journalDir = path("journal.dir", journal.dir());
    range("journal.max-entries", journal.maxEntries(), 1, 10_000_000);
    if (journal.maxBytes() < 4096 || journal.maxBytes() > (1L << 40)) {
      throw invalid(
          "journal.max-bytes", Long.toString(journal.maxBytes()), "between 4096 and 2^40");
    }

    Optional<UpdateConfig> updates = updates(config);
    EngineChoice engine = EngineSelection.choose(m, env);
    EscalationSettings escalation = escalation(config.escalation(), config.site(), nodeId);

    return new ValidatedConfig(
        nodeId,
        config.site(),
        labels,
        brokerUrl,
        fleetBrokerUrl,
        sensors,
        modelPath,
        simulator,
        journalDir,
        replies,
        updates,
        engine,
        escalation);
  }

  private static final int MAX_ESCALATION_PATTERNS = 64;

  /**
   * The escalation settings. Every given key is checked, whether or not escalation is on, so that a
   * plant that turns it on later finds no surprise; off, the result lets nothing leave the node.
   */
  static EscalationSettings escalation(AgentConfig.Escalation e, String site, String nodeId)
      throws AgentConfigException {
    String fix = " Set edgeslm.agent.escalation.enabled=false to keep every question on the node";
    Optional<EscalationSettings.Target> target = Optional.empty();
    if (e.target().isPresent()) {
      String raw = e.target().get().strip();
      if (raw.startsWith("node:")) {
        String peer = raw.substring("node:".length());
        String peerSite = e.nodeSite().orElse(site);
        topicLevel("escalation.node-site", peerSite);
        if (!TOPIC_LEVEL.matcher(peer).matches()) {
          throw invalid(
              "escalation.target",
              raw,
              "node:<id> with the other node's id (1-64 letters, digits, '.', '_' or '-') or"
                  + " endpoint");
        }
        if (peer.equals(nodeId) && peerSite.equals(site)) {
          throw invalid(
              "escalation.target",
              raw,
              "another node than this one (node-id is " + nodeId + ")." + fix);
        }
        target = Optional.of(new EscalationSettings.Node(peerSite, peer));
      } else if (raw.equals("endpoint")) {
        target = Optional.of(endpoint(e));
      } else {
        throw invalid(
            "escalation.target",
            raw,
            "node:<id> (another node's ask topic on the local broker) or endpoint (an"
                + " OpenAI-compatible server: set escalation.endpoint.url and"
                + " escalation.endpoint.model)");
      }
    }
    double p = e.minTokenProbability();
    if (!(p >= 0 && p <= 1)) {
      throw invalid(
          "escalation.min-token-probability",
          Double.toString(p),
          "a probability between 0 (never escalate for confidence) and 1");
    }
    List<String> tasks = e.tasks().orElse(List.of());
    for (String t : tasks) {
      if (!OperatorQaTask.TASKS.contains(t)) {
        throw invalid(
            "escalation.tasks",
            String.join(",", tasks),
            "a comma-separated list of " + String.join(", ", OperatorQaTask.TASKS));
      }
    }
    List<String> sensors = e.sensors().orElse(List.of());
    if (sensors.size() > MAX_ESCALATION_PATTERNS) {
      throw invalid(
          "escalation.sensors",
          sensors.size() + " patterns",
          "at most " + MAX_ESCALATION_PATTERNS + " sensor id patterns");
    }
    for (String pattern : sensors) {
      if (pattern.isBlank() || pattern.length() > 128 || pattern.chars().anyMatch(c -> c <= ' ')) {
        throw invalid(
            "escalation.sensors",
            pattern,
            "sensor id patterns of 1-128 characters without spaces ('*' matches any run of"
                + " characters), comma-separated; leave it unset to send no sensor value");
      }
    }
    range(
        "escalation.max-question-chars",
        e.maxQuestionChars(),
        1,
        io.edgeslm.protocol.Question.MAX_QUESTION_CHARS);
    duration("escalation.timeout", e.timeout(), Duration.ofMillis(100), Duration.ofMinutes(5));
    range("escalation.max-concurrent", e.maxConcurrent(), 1, 64);
    if (!e.enabled()) {
      return EscalationSettings.off();
    }
    if (target.isEmpty()) {
      throw invalid(
          "escalation.target",
          "",
          "a target when escalation is enabled: node:<id> or endpoint." + fix);
    }
    if (p == 0 && !e.onInvalidAnswer() && tasks.isEmpty()) {
      throw invalid(
          "escalation.min-token-probability",
          "0",
          "a trigger when escalation is enabled: a min-token-probability above 0,"
              + " on-invalid-answer=true, or tasks (a question outside them is escalated); with"
              + " none, nothing would ever be escalated."
              + fix);
    }
    EscalationPolicy policy =
        new EscalationPolicy(
            true, p, e.onInvalidAnswer(), Set.copyOf(tasks), sensors, e.maxQuestionChars());
    return new EscalationSettings(policy, target, e.timeout(), e.maxConcurrent());
  }

  private static EscalationSettings.Endpoint endpoint(AgentConfig.Escalation e)
      throws AgentConfigException {
    String raw = e.endpointUrl().orElse("");
    URI u;
    try {
      u = new URI(raw);
    } catch (URISyntaxException ex) {
      u = null;
    }
    if (u == null
        || u.getScheme() == null
        || !Set.of("http", "https").contains(u.getScheme().toLowerCase(Locale.ROOT))
        || u.getHost() == null
        || u.getRawUserInfo() != null
        || u.getRawQuery() != null
        || u.getRawFragment() != null) {
      throw invalid(
          "escalation.endpoint.url",
          raw,
          "the endpoint's root URL, http://host:port or https://host:port (no credentials in"
              + " the URL: use escalation.endpoint.api-key), when escalation.target=endpoint");
    }
    String model = e.endpointModel().orElse("");
    if (model.isBlank() || model.length() > 256 || model.chars().anyMatch(c -> c < ' ')) {
      throw invalid(
          "escalation.endpoint.model",
          model,
          "the model id the endpoint serves (1-256 characters; GET /v1/models lists them)");
    }
    String name = e.endpointName().orElse(u.getHost());
    if (!TOPIC_LEVEL.matcher(name).matches()) {
      throw invalid(
          "escalation.endpoint.name",
          name,
          "1-64 letters, digits, '.', '_' or '-' (it appears in answers as endpoint:<name>)");
    }
    range("escalation.endpoint.answer-tokens", e.endpointAnswerTokens(), 1, 4096);
    double temperature = e.endpointTemperature();
    if (!(temperature >= 0 && temperature <= 2)) {
      throw invalid(
          "escalation.endpoint.temperature", Double.toString(temperature), "between 0 and 2");
    }
    return new EscalationSettings.Endpoint(
        name,
        u,
        model,
        e.endpointApiKey().filter(k -> !k.isBlank()),
        e.endpointAnswerTokens(),
        temperature);
  }

  private static Optional<UpdateConfig> updates(AgentConfig config) throws AgentConfigException {
    AgentConfig.Updates u = config.updates();
    Optional<String> trustStore = u.trustStore().filter(s -> !s.isBlank());
    List<String> pinned =
        u.pinnedKeys().orElse(List.of()).stream().filter(s -> !s.isBlank()).toList();
    boolean trustConfigured = trustStore.isPresent() || !pinned.isEmpty();
    boolean on = u.enabled().orElse(trustConfigured);
    if (!on) {
      return Optional.empty();
    }
    if (!trustConfigured) {
      throw invalid(
          "updates.enabled",
          "true",
          "a trust store (updates.trust-store) or pinned release keys (updates.pinned-keys) to"
              + " verify bundles with; without one no update can be trusted");
    }
    if (trustStore.isPresent() && !pinned.isEmpty()) {
      throw invalid(
          "updates.pinned-keys",
          String.join(",", pinned),
          "either a trust store or pinned keys, not both");
    }
    existingFile("updates.trust-store", trustStore);
    List<Path> keys = new ArrayList<>();
    for (String k : pinned) {
      existingFile("updates.pinned-keys", Optional.of(k));
      keys.add(path("updates.pinned-keys", k));
    }
    String model = config.model().name().orElse("");
    if (model.isEmpty()) {
      throw invalid(
          "model.name",
          "(none)",
          "the name of the model this node runs when updates are on (the signed release's"
              + " 'model'); assignments and bundles for other models are refused");
    }
    if (!IDENTIFIER.matcher(u.channel()).matches()) {
      throw invalid("updates.channel", u.channel(), "1-128 letters, digits, '.', '_', ':' or '-'");
    }
    Optional<Path> usb = Optional.empty();
    if (u.usbWatchDir().isPresent() && !u.usbWatchDir().get().isBlank()) {
      usb = Optional.of(path("updates.usb.watch-dir", u.usbWatchDir().get()));
    }
    duration(
        "updates.usb.poll-interval",
        u.usbPollInterval(),
        Duration.ofMillis(100),
        Duration.ofHours(1));
    duration("updates.usb.timeout", u.usbTimeout(), Duration.ofSeconds(10), Duration.ofDays(1));
    duration("updates.soak", u.soak(), Duration.ZERO, Duration.ofDays(7));
    duration("updates.soak-sample", u.soakSample(), Duration.ofMillis(50), Duration.ofHours(1));
    range("updates.soak-max-not-ready", u.soakMaxNotReady(), 1, 1000);
    if (!(u.soakMaxErrorRate() >= 0 && u.soakMaxErrorRate() <= 1)) {
      throw invalid(
          "updates.soak-max-error-rate", Double.toString(u.soakMaxErrorRate()), "between 0 and 1");
    }
    range("updates.soak-min-requests", u.soakMinRequests(), 1, 1_000_000);
    if (!(u.soakMinSpeedRatio() >= 0 && u.soakMinSpeedRatio() <= 1)) {
      throw invalid(
          "updates.soak-min-speed-ratio",
          Double.toString(u.soakMinSpeedRatio()),
          "between 0 and 1");
    }
    range("updates.disk-margin-bytes", u.diskMarginBytes(), 0, 1L << 50);
    SwapMode swap =
        switch (u.swapMode().toLowerCase(Locale.ROOT)) {
          case "auto" -> SwapMode.AUTO;
          case "side-by-side" -> SwapMode.SIDE_BY_SIDE;
          case "stop-first" -> SwapMode.STOP_FIRST;
          default ->
              throw invalid("updates.swap-mode", u.swapMode(), "auto, side-by-side or stop-first");
        };
    return Optional.of(
        new UpdateConfig(
            path("updates.data-dir", u.dataDir()),
            trustStore.map(Path::of),
            keys,
            model,
            u.channel(),
            usb,
            u.usbPollInterval(),
            u.usbTimeout(),
            u.soak(),
            u.soakSample(),
            u.soakMaxNotReady(),
            u.soakMaxErrorRate(),
            u.soakMinRequests(),
            u.soakMinSpeedRatio(),
            u.diskMarginBytes(),
            swap));
  }

  /** The host name as a topic level: characters outside the allowed set become '-'. */
  static String sanitizeHostName(String hostName) {
    String cleaned = hostName == null ? "" : hostName.replaceAll("[^A-Za-z0-9_.-]", "-");
    cleaned = cleaned.replaceAll("^[^A-Za-z0-9]+", "");
    if (cleaned.length() > 64) {
      cleaned = cleaned.substring(0, 64);
    }
    return cleaned.isEmpty() ? "node" : cleaned;
  }

  private static List<SensorSpec> sensors(Map<String, AgentConfig.Sensor> configured)
      throws AgentConfigException {
    if (configured.size() > MAX_SENSORS) {
      throw invalid(
          "sensors", configured.size() + " sensors", "at most " + MAX_SENSORS + " sensors");
    }
    List<SensorSpec> specs = new ArrayList<>();
    for (Map.Entry<String, AgentConfig.Sensor> entry : new TreeMap<>(configured).entrySet()) {
      String id = entry.getKey();
      AgentConfig.Sensor sensor = entry.getValue();
      String key = "sensors.\"" + id + "\"";
      if (!TOPIC_LEVEL.matcher(id).matches()) {
        throw invalid(key, id, "a sensor id is 1-64 letters, digits, '.', '_' or '-'");
      }
      String topic = sensor.topic();
      if (topic.isEmpty()
          || topic.length() > MAX_TOPIC_BYTES
          || topic.contains("+")
          || topic.contains("#")
          || topic.startsWith("$")
          || topic.chars().anyMatch(c -> c == 0 || Character.isISOControl(c))) {
        throw invalid(
            key + ".topic",
            topic,
            "a sensor topic is a plain MQTT topic name: no '+' or '#' wildcards, no leading '$',"
                + " no control characters, at most "
                + MAX_TOPIC_BYTES
                + " characters");
      }
      String unit = sensor.unit().orElse("");
      if (unit.length() > 32) {
        throw invalid(key + ".unit", unit, "a unit has at most 32 characters");
      }
      String alias = sensor.alias().orElse(id);
      if (alias.isBlank() || alias.length() > 128) {
        throw invalid(key + ".alias", alias, "an alias has 1-128 characters");
      }
      if (!(Double.isFinite(sensor.normalMin())
          && Double.isFinite(sensor.normalMax())
          && sensor.normalMin() < sensor.normalMax())) {
        throw invalid(
            key + ".normal-min",
            sensor.normalMin() + ".." + sensor.normalMax(),
            "normal-min must be finite and below normal-max");
      }
      range(
          key + ".window",
          sensor.window(),
          2,
          io.edgeslm.agent.internal.tasks.SensorWindow.MAX_SAMPLES);
      specs.add(
          new SensorSpec(
              id, topic, unit, alias, sensor.normalMin(), sensor.normalMax(), sensor.window()));
    }
    specs.sort(Comparator.comparing(SensorSpec::id));
    return specs;
  }

  /**
   * Checks one broker's settings under {@code key} ({@code broker} or {@code fleet.broker}).
   *
   * @return the broker's URL, or empty when none is set
   */
  private static Optional<URI> connection(String key, AgentConfig.Connection broker)
      throws AgentConfigException {
    Optional<URI> url = Optional.empty();
    if (broker.url().isPresent() && !broker.url().get().isBlank()) {
      url = Optional.of(brokerUrl(key, broker.url().get()));
    }
    duration(key + ".keep-alive", broker.keepAlive(), Duration.ofSeconds(1), Duration.ofHours(18));
    duration(
        key + ".connect-timeout",
        broker.connectTimeout(),
        Duration.ofSeconds(1),
        Duration.ofMinutes(5));
    duration(
        key + ".max-reconnect-delay",
        broker.maxReconnectDelay(),
        Duration.ofSeconds(1),
        Duration.ofHours(1));
    duration(key + ".will-delay", broker.willDelay(), Duration.ZERO, Duration.ofDays(1));
    range(key + ".max-inflight", broker.maxInflight(), 1, 65_535);
    range(key + ".inbound-queue", broker.inboundQueue(), 1, 100_000);
    existingFile(key + ".tls.key-store", broker.tlsKeyStore());
    existingFile(key + ".tls.trust-store", broker.tlsTrustStore());
    existingFile(key + ".tls.certificate", broker.tlsCertificate());
    existingFile(key + ".tls.private-key", broker.tlsPrivateKey());
    existingFile(key + ".tls.ca", broker.tlsCa());
    if (broker.tlsCertificate().isPresent() != broker.tlsPrivateKey().isPresent()) {
      throw invalid(
          key + (broker.tlsCertificate().isPresent() ? ".tls.private-key" : ".tls.certificate"),
          "(none)",
          "tls.certificate and tls.private-key set together");
    }
    if (broker.tlsCertificate().isPresent() && broker.tlsKeyStore().isPresent()) {
      throw invalid(
          key + ".tls.key-store",
          broker.tlsKeyStore().get(),
          "either a PEM pair (tls.certificate, tls.private-key) or a key store, not both");
    }
    boolean tls =
        broker.tlsKeyStore().isPresent()
            || broker.tlsTrustStore().isPresent()
            || broker.tlsCertificate().isPresent()
            || broker.tlsCa().isPresent();
    if (tls && url.map(u -> !u.getScheme().equals("ssl")).orElse(true)) {
      throw invalid(
          key + ".url",
          url.map(URI::toString).orElse("(none)"),
          "TLS key or trust stores need an ssl:// broker URL");
    }
    return url;
  }

  /** Whether two broker URLs name one listener (scheme default ports filled in). */
  private static boolean sameBroker(URI a, URI b) {
    return a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : u.getScheme().equals("ssl") ? 8883 : 1883;
  }

  private static URI brokerUrl(String key, String raw) throws AgentConfigException {
    String urlKey = key + ".url";
    URI uri;
    try {
      uri = new URI(raw.trim());
    } catch (URISyntaxException e) {
      throw invalid(urlKey, raw, "a URI such as tcp://broker.plant:1883 (" + e.getReason() + ")");
    }
    if (uri.getScheme() == null || !BROKER_SCHEMES.contains(uri.getScheme())) {
      throw invalid(
          urlKey, raw, "the scheme must be tcp or ssl (MQTT over WebSocket is not supported)");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw invalid(urlKey, raw, "the URL must name a host, e.g. tcp://broker.plant:1883");
    }
    if (uri.getUserInfo() != null) {
      throw invalid(
          urlKey,
          uri.getScheme() + "://***@" + uri.getHost(),
          "credentials go in " + key + ".username and " + key + ".password, not in the URL");
    }
    return uri;
  }

  private static void topicLevel(String key, String value) throws AgentConfigException {
    if (value == null || !TOPIC_LEVEL.matcher(value).matches()) {
      throw invalid(
          key,
          value,
          "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it is an MQTT"
              + " topic level)");
    }
  }

  private static void range(String key, long value, long min, long max)
      throws AgentConfigException {
    if (value < min || value > max) {
      throw invalid(key, Long.toString(value), "between " + min + " and " + max);
    }
  }

  private static void duration(String key, Duration value, Duration min, Duration max)
      throws AgentConfigException {
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw invalid(key, value.toString(), "a duration between " + min + " and " + max);
    }
  }

  private static Path path(String key, String raw) throws AgentConfigException {
    try {
      return Path.of(raw);
    } catch (InvalidPathException e) {
      throw invalid(key, raw, "a valid file system path (" + e.getReason() + ")");
    }
  }

  private static void existingFile(String key, Optional<String> raw) throws AgentConfigException {
    if (raw.isPresent() && !Files.isRegularFile(path(key, raw.get()))) {
      throw invalid(key, raw.get(), "the file must exist and be readable");
    }
  }

  /** The message format for every configuration fault: key, value, rule, where to fix it. */
  private static ReplyNamespace replyNamespace(String site, String nodeId, List<String> prefixes)
      throws AgentConfigException {
    List<String> operatorPrefixes =
        prefixes.equals(List.of("none")) ? List.of() : List.copyOf(prefixes);
    try {
      return ReplyNamespace.of(Topics.node(site, nodeId), operatorPrefixes);
    } catch (IllegalArgumentException e) {
      throw invalid(
          "qa.reply-prefixes",
          String.join(",", prefixes),
          "topic prefixes ending in '/', outside edge/v1/ and fleet/, without wildcards or '$'"
              + " (for example operator/), or none");
    }
  }

  static AgentConfigException invalid(String key, String value, String rule) {
    String fullKey = PREFIX + key;
    return new AgentConfigException(
        fullKey,
        "Invalid configuration "
            + fullKey
            + "='"
            + value
            + "': expected "
            + rule
            + ". Fix it in application.properties, the file named by EDGESLM_CONFIG, or the"
            + " environment variable "
            + envName(fullKey)
            + ".",
        null);
  }

  /** The environment variable SmallRye Config maps to {@code key}. */
  static String envName(String key) {
    return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
  }
}
