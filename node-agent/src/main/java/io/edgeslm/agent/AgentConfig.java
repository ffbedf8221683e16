package io.edgeslm.agent;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node agent's configuration, read by Quarkus from {@code application.properties}, environment
 * variables ({@code EDGESLM_AGENT_NODE_ID}, ...) and the file named by {@code EDGESLM_CONFIG} (see
 * {@code docs/node-agent.md}). Every value is checked at start-up; a value that breaks a rule stops
 * the agent with a message naming the key, the value and the rule.
 */
@ConfigMapping(prefix = "edgeslm.agent")
public interface AgentConfig {

  /** The node's identity: MQTT client id and a topic level. Defaults to the host name. */
  @WithName("node-id")
  Optional<String> nodeId();

  /** The site (plant, store) the node belongs to: a topic level. */
  @WithDefault("demo")
  String site();

  /** Free labels reported in the birth message and used by rollout selectors. */
  Map<String, String> labels();

  Broker broker();

  /** The optional fleet broker (the uplink to the controller); see {@link Fleet}. */
  Fleet fleet();

  /** Sensors by name; each names an MQTT topic and a normal range. */
  Map<String, Sensor> sensors();

  /** Sparkplug B ingest: the groups followed and how. */
  Sparkplug sparkplug();

  /** Unified Namespace ingest: topic patterns and how they become sensors. */
  Uns uns();

  /** Bounds shared by every ingest path. */
  Ingest ingest();

  Model model();

  Report report();

  Qa qa();

  Health health();

  Journal journal();

  Demo demo();

  Updates updates();

  Escalation escalation();

  /**
   * Where to write the broker URL and topics once started (a properties file), so that tools such
   * as {@code ./run-agent ask} find the agent. Absent: not written.
   */
  @WithName("run-info-file")
  Optional<String> runInfoFile();

  /** The operator-assigned hardware class reported in the birth message, e.g. {@code gw-4g}. */
  @WithName("device-class")
  @WithDefault("generic")
  String deviceClass();

  /**
   * How to reach one MQTT broker: its URL, credentials, TLS files and connection bounds. The local
   * broker ({@code broker.*}) and the fleet broker ({@code fleet.broker.*}) take the same keys.
   */
  interface Connection {
    /**
     * {@code tcp://host:1883} or {@code ssl://host:8883}. Absent for {@code broker.url}: the agent
     * starts an embedded MQTT 5 broker on localhost; absent for {@code fleet.broker.url}: the local
     * broker carries the fleet's topics too.
     */
    Optional<String> url();

    Optional<String> username();

    Optional<String> password();

    /** PEM client certificate (chain) of the node, for mutual TLS; with {@code tls.private-key}. */
    @WithName("tls.certificate")
    Optional<String> tlsCertificate();

    /** PEM private key (unencrypted PKCS#8, EC or RSA) of {@code tls.certificate}. */
    @WithName("tls.private-key")
    Optional<String> tlsPrivateKey();

    /** PEM CA certificate(s) the broker's certificate must chain to. */
    @WithName("tls.ca")
    Optional<String> tlsCa();

    /** PKCS#12 key store with the node's client certificate (instead of the PEM pair). */
    @WithName("tls.key-store")
    Optional<String> tlsKeyStore();

    @WithName("tls.key-store-password")
    Optional<String> tlsKeyStorePassword();

    /** PKCS#12 trust store with the broker's CA; absent: the JDK's default trust. */
    @WithName("tls.trust-store")
    Optional<String> tlsTrustStore();

    @WithName("tls.trust-store-password")
    Optional<String> tlsTrustStorePassword();

    @WithName("keep-alive")
    @WithDefault("30s")
    Duration keepAlive();

    @WithName("connect-timeout")
    @WithDefault("10s")
    Duration connectTimeout();

    /** Upper bound of the first-connect and reconnect backoff. */
    @WithName("max-reconnect-delay")
    @WithDefault("30s")
    Duration maxReconnectDelay();

    /** Will Delay Interval: how long a lost connection may last before the broker says offline. */
    @WithName("will-delay")
    @WithDefault("15s")
    Duration willDelay();

    /** The agent's own bound on unacknowledged publishes (Paho's 32202 defect). */
    @WithName("max-inflight")
    @WithDefault("16")
    int maxInflight();

    /** Bound on received messages waiting for the agent's worker thread. */
    @WithName("inbound-queue")
    @WithDefault("256")
    int inboundQueue();
  }

  /**
   * The local broker: sensors, operators' questions and answers, reports; and everything else too
   * while no fleet broker is configured. Absent URL: an embedded broker (demo only).
   */
  interface Broker extends Connection {
    /** Port of the embedded broker (used only when {@code url} is absent). */
    @WithName("embedded.port")
    @WithDefault("1883")
    int embeddedPort();

    /** Host the embedded broker binds to; loopback by default so nothing is exposed. */
    @WithName("embedded.host")
    @WithDefault("127.0.0.1")
    String embeddedHost();

    /**
     * Directory of the jars that provide the embedded broker ({@code
     * demo-broker/target/embedded-broker}; {@code ./run-agent} sets it). The gateway artifact
     * carries no broker: without a provider, an agent with no {@code url} stops with exit code 78.
     */
    @WithName("embedded.jars")
    Optional<String> embeddedJars();
  }

  /**
   * The fleet uplink: a second broker, the controller's, for birth, status and will, health, the
   * journal, update assignments, chunks and commands. Absent URL: one connection carries
   * everything.
   */
  interface Fleet {
    Connection broker();
  }

  /** One sensor: where its values arrive and what is normal. */
  interface Sensor {
    /** MQTT topic (no wildcards) carrying a number or {@code {"value": n}}. */
    String topic();

    /** Unit as written in answers and reports, e.g. {@code °C}; absent for unitless values. */
    Optional<String> unit();

    /** Human name used in answers; defaults to the sensor's key. */
    Optional<String> alias();

    /** Lower end of the normal range (inclusive). */
    @WithName("normal-min")
    double normalMin();

    /** Upper end of the normal range (inclusive). */
    @WithName("normal-max")
    double normalMax();

    /** Samples kept per sensor (rolling window). */
    @WithName("window")
    @WithDefault("120")
    int window();
  }

  /** Sparkplug B ingest (Eclipse Sparkplug 3.0); off while no group is named. */
  interface Sparkplug {
    /** Group IDs to follow ({@code spBv1.0/{group}/#} each); none: Sparkplug B off. */
    Optional<List<String>> groups();

    /** Larger payloads are refused unread and counted. */
    @WithName("max-payload-bytes")
    @WithDefault("262144")
    int maxPayloadBytes();

    /** Least time between two rebirth requests to one edge node. */
    @WithName("rebirth-interval")
    @WithDefault("30s")
    Duration rebirthInterval();

    /** Whether the agent sends rebirth requests (NCMD) at all. */
    @WithName("rebirth-requests")
    @WithDefault("true")
    boolean rebirthRequests();
  }

  /** Unified Namespace ingest: JSON values on topics matching patterns. */
  interface Uns {
    /** Larger payloads are refused unread and counted. */
    @WithName("max-payload-bytes")
    @WithDefault("16384")
    int maxPayloadBytes();

    /** Topic patterns by name. */
    Map<String, UnsPattern> patterns();
  }

  /** One UNS topic pattern. */
  interface UnsPattern {
    /** An MQTT filter whose {@code +} levels may be named: {@code plant/+site/+machine/+metric}. */
    String topic();

    /** Sensor id template; {@code {name}} is a named level, {@code {topic}} the whole topic. */
    @WithName("sensor-id")
    @WithDefault("{topic}")
    String sensorId();

    /** Alias template (the name operators use); defaults to the id. */
    Optional<String> alias();

    /** Unit, or a template; absent: the payload's {@code unit}. */
    Optional<String> unit();

    /** Lower end of the normal range (with normal-max), inclusive. */
    @WithName("normal-min")
    Optional<Double> normalMin();

    /** Upper end of the normal range (with normal-min), inclusive. */
    @WithName("normal-max")
    Optional<Double> normalMax();

    /** JSON pointer to the value in the payload, e.g. {@code /data/value}. */
    @WithName("value-pointer")
    Optional<String> valuePointer();

    /** Samples kept per sensor. */
    @WithDefault("120")
    int window();
  }

  /** Bounds of sensor ingest. */
  interface Ingest {
    /** Most sensors held, configured and discovered (Sparkplug metrics, UNS topics). */
    @WithName("max-sensors")
    @WithDefault("1024")
    int maxSensors();

    /** Samples kept per discovered Sparkplug B metric. */
    @WithDefault("120")
    int window();
  }

  /** The language model; absent path means rule-based mode. */
  interface Model {
    /** A GGUF file or a verified bundle directory. Absent: rule-based answers and reports. */
    Optional<String> path();

    /** Must be true to run without a model: the readiness check then accepts rule-based mode. */
    @WithName("rules-fallback")
    @WithDefault("true")
    boolean rulesFallback();

    /** Model name reported with answers; defaults to the GGUF file name without extension. */
    Optional<String> name();

    /** Model release version reported with answers (release.json's version for a bundle). */
    @WithDefault("1")
    long version();

    /** Inference threads; 0 means one per available processor. */
    @WithDefault("0")
    int threads();

    /** Context size in tokens. */
    @WithDefault("2048")
    int context();

    /** Tokens an answer may have. */
    @WithName("answer-tokens")
    @WithDefault("160")
    int answerTokens();

    /** Sampling temperature of answers; absent: the inference module's Q&A default. */
    Optional<Double> temperature();

    /** Sampling seed of answers (-1: random each time); absent: the inference default. */
    Optional<Integer> seed();

    /** Tokens a model-phrased report may have (its JSON included). */
    @WithName("report-tokens")
    @WithDefault("256")
    int reportTokens();

    /** Time a model answer may take, queueing included, before the rules answer instead. */
    @WithName("answer-deadline")
    @WithDefault("60s")
    Duration answerDeadline();

    /**
     * Time a request may wait for its first token (prompt processing) before the engine counts it
     * as hung, kills its process and restarts it. A long cold prompt on a slow gateway can need
     * more than the default: raise it rather than have a healthy engine killed.
     */
    @WithName("first-token-timeout")
    @WithDefault("120s")
    Duration firstTokenTimeout();

    /**
     * Ceiling of the delay before the engine restarts a crashed or hung model process (it starts at
     * 500 ms and doubles). With ten failed restarts in a row the engine gives up and liveness goes
     * down, so this also bounds how long a gateway whose engine cannot start waits before its
     * supervisor restarts the agent: with the default about 2.5 minutes.
     */
    @WithName("restart-backoff-max")
    @WithDefault("30s")
    Duration restartBackoffMax();

    /**
     * Which engine runs the model: {@code auto} (llama-server when one is configured or found, else
     * the bundled worker), {@code llama-server}, {@code worker} (the bundled llama.cpp binding in a
     * child JVM) or {@code http} (an OpenAI-compatible server the agent does not start).
     */
    @WithDefault("auto")
    String engine();

    /** The llama-server binary; absent: EDGESLM_LLAMA_SERVER, PATH, then the build cache. */
    @WithName("llama-server")
    Optional<String> llamaServer();

    /** Whether reasoning models may think before answering (llama-server only). */
    @WithDefault("false")
    boolean thinking();

    /** The external server's root URL, e.g. {@code http://127.0.0.1:11434} (engine http). */
    @WithName("http.url")
    Optional<String> httpUrl();

    /** The model id the external server serves (engine http). */
    @WithName("http.model")
    Optional<String> httpModel();

    /** Bearer token for the external server (engine http). */
    @WithName("http.api-key")
    Optional<String> httpApiKey();

    /** Whether the external server is a llama-server with {@code /tokenize} (engine http). */
    @WithName("http.tokenize")
    @WithDefault("false")
    boolean httpTokenize();
  }

  /** The sensor report task. */
  interface Report {
    @WithDefault("60s")
    Duration interval();

    /** Minimum time between two reports triggered by new anomalies. */
    @WithName("anomaly-debounce")
    @WithDefault("5s")
    Duration anomalyDebounce();
  }

  /** Operator questions. */
  interface Qa {
    /** Largest accepted question payload, in bytes. */
    @WithName("max-payload-bytes")
    @WithDefault("8192")
    int maxPayloadBytes();

    /** Longest accepted question text, in characters; at most the protocol's limit. */
    @WithName("max-question-chars")
    @WithDefault("" + io.edgeslm.protocol.Question.MAX_QUESTION_CHARS)
    int maxQuestionChars();

    /** Questions accepted but not yet answered; one more gets a "busy" reply. */
    @WithName("queue")
    @WithDefault("32")
    int queue();

    /** Deadline for a question that carries no expiry of its own. */
    @WithName("default-timeout")
    @WithDefault("30s")
    Duration defaultTimeout();

    /**
     * Operator-owned topic prefixes answers may also go to, besides the node's own {@code
     * edge/v1/{site}/{node}/answers/…} and the controllers' {@code fleet/v1/{replica}/reply};
     * {@code none} for no operator prefix.
     */
    @WithName("reply-prefixes")
    @WithDefault("operator/")
    List<String> replyPrefixes();
  }

  /**
   * Handing a question the node cannot answer well to a larger model (another node, or an
   * OpenAI-compatible endpoint inside the plant). Off unless {@code enabled}: then no question and
   * no sensor value ever leaves the node.
   */
  interface Escalation {
    @WithDefault("false")
    boolean enabled();

    /** {@code node:<id>} (another node's ask topic on the local broker) or {@code endpoint}. */
    Optional<String> target();

    /** The site of the target node; the node's own site when absent. */
    @WithName("node-site")
    Optional<String> nodeSite();

    /** The endpoint's root URL ({@code http://host:port}); POST {@code /v1/chat/completions}. */
    @WithName("endpoint.url")
    Optional<String> endpointUrl();

    /** The model id sent to the endpoint. */
    @WithName("endpoint.model")
    Optional<String> endpointModel();

    /** The endpoint's name in {@code answeredBy} ({@code endpoint:<name>}); the URL's host. */
    @WithName("endpoint.name")
    Optional<String> endpointName();

    /** Bearer token for the endpoint. */
    @WithName("endpoint.api-key")
    Optional<String> endpointApiKey();

    /** Sampling temperature of endpoint requests (0: greedy). */
    @WithName("endpoint.temperature")
    @WithDefault("0")
    double endpointTemperature();

    /** Tokens the endpoint may generate. */
    @WithName("endpoint.answer-tokens")
    @WithDefault("256")
    int endpointAnswerTokens();

    /** Escalate when the mean probability of the answer's tokens is below this (0: never). */
    @WithName("min-token-probability")
    @WithDefault("0")
    double minTokenProbability();

    /** Escalate when the local answer fails validation. */
    @WithName("on-invalid-answer")
    @WithDefault("true")
    boolean onInvalidAnswer();

    /** The tasks the node is configured for; a question outside them is escalated. */
    Optional<List<String>> tasks();

    /** Sensor id patterns ({@code *} any run of characters) whose values may go along. */
    Optional<List<String>> sensors();

    /** Longest question that may be escalated. */
    @WithName("max-question-chars")
    @WithDefault("" + io.edgeslm.protocol.Question.MAX_QUESTION_CHARS)
    int maxQuestionChars();

    /** Longest wait for the target's answer (also bounded by the question's own deadline). */
    @WithDefault("20s")
    Duration timeout();

    /** Escalations in flight at once; more answer locally with a note. */
    @WithName("max-concurrent")
    @WithDefault("2")
    int maxConcurrent();
  }

  /** Periodic health messages to the controller. */
  interface Health {
    @WithDefault("30s")
    Duration interval();
  }

  /** The offline journal of health messages and reports. */
  interface Journal {
    /** Directory for the journal; created if missing. */
    @WithDefault("${java.io.tmpdir}/edgeslm-agent/journal")
    String dir();

    /** Most entries kept; past it the oldest are dropped (and counted). */
    @WithName("max-entries")
    @WithDefault("10000")
    int maxEntries();

    /** Most bytes kept; past it the oldest are dropped (and counted). */
    @WithName("max-bytes")
    @WithDefault("67108864")
    long maxBytes();
  }

  /** The demo sensor simulator. */
  interface Demo {
    /**
     * {@code auto}: on when the embedded broker runs and no sensors are configured; {@code on};
     * {@code off}.
     */
    @WithDefault("auto")
    String simulator();

    /** Period between two simulated readings. */
    @WithDefault("1s")
    Duration period();
  }

  /**
   * Model updates over MQTT and from a USB stick (docs/updates.md). On when a trust store or pinned
   * keys are configured, unless {@code enabled} says otherwise.
   */
  interface Updates {
    /** Absent: on exactly when {@code trust-store} or {@code pinned-keys} is set. */
    Optional<Boolean> enabled();

    /** The model store, staging area and update journal (one file system). */
    @WithName("data-dir")
    @WithDefault("${java.io.tmpdir}/edgeslm-agent/data")
    String dataDir();

    /** A signed trust root (JSON, {@code model-signing trust init}) naming the release keys. */
    @WithName("trust-store")
    Optional<String> trustStore();

    /** PEM public keys of the release managers, pinned (instead of a trust store). */
    @WithName("pinned-keys")
    Optional<List<String>> pinnedKeys();

    /** The release channel this node follows for its model ({@code edgeslm.agent.model.name}). */
    @WithDefault("stable")
    String channel();

    /** The directory a USB stick is mounted on; absent: no side-loading. */
    @WithName("usb.watch-dir")
    Optional<String> usbWatchDir();

    /** How often the USB directory is looked at. */
    @WithName("usb.poll-interval")
    @WithDefault("5s")
    Duration usbPollInterval();

    /** How long installing one bundle from a stick may take before its result says timeout. */
    @WithName("usb.timeout")
    @WithDefault("1h")
    Duration usbTimeout();

    /** How long a new model is watched before it is committed. */
    @WithDefault("5m")
    Duration soak();

    /** Interval between health samples during the soak. */
    @WithName("soak-sample")
    @WithDefault("10s")
    Duration soakSample();

    /** Consecutive not-ready samples that fail the soak. */
    @WithName("soak-max-not-ready")
    @WithDefault("3")
    int soakMaxNotReady();

    /** Error rate (0..1) above which the soak fails, once {@code soak-min-requests} ran. */
    @WithName("soak-max-error-rate")
    @WithDefault("0.2")
    double soakMaxErrorRate();

    /** Requests needed before the error rate and speed are judged. */
    @WithName("soak-min-requests")
    @WithDefault("5")
    long soakMinRequests();

    /** Slowest acceptable speed, as a fraction of the previous model's tokens/s. */
    @WithName("soak-min-speed-ratio")
    @WithDefault("0.5")
    double soakMinSpeedRatio();

    /** Free bytes to keep beyond twice the bundle size before accepting an update. */
    @WithName("disk-margin-bytes")
    @WithDefault("268435456")
    long diskMarginBytes();

    /** {@code auto}, {@code side-by-side} or {@code stop-first} (inference's SwapMode). */
    @WithName("swap-mode")
    @WithDefault("auto")
    String swapMode();
  }
}
