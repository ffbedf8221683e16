package io.edgeslm.agent.internal.lifecycle;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.AgentException;
import io.edgeslm.agent.AgentTransportException;
import io.edgeslm.agent.broker.LocalBroker;
import io.edgeslm.agent.internal.broker.LocalBrokerLoader;
import io.edgeslm.agent.internal.config.ConfigValidator;
import io.edgeslm.agent.internal.config.PlantIngestConfig;
import io.edgeslm.agent.internal.config.ValidatedConfig;
import io.edgeslm.agent.internal.escalation.EndpointTarget;
import io.edgeslm.agent.internal.escalation.EscalatingAnswerer;
import io.edgeslm.agent.internal.escalation.EscalationDecision;
import io.edgeslm.agent.internal.escalation.EscalationPolicy;
import io.edgeslm.agent.internal.escalation.EscalationSettings;
import io.edgeslm.agent.internal.escalation.EscalationTarget;
import io.edgeslm.agent.internal.escalation.PeerNodeTarget;
import io.edgeslm.agent.internal.health.SystemProbe;
import io.edgeslm.agent.internal.journal.Journal;
import io.edgeslm.agent.internal.journal.JournalDrainer;
import io.edgeslm.agent.internal.management.AgentMetrics;
import io.edgeslm.agent.internal.management.ManagementServer;
import io.edgeslm.agent.internal.mqtt.BrokerTls;
import io.edgeslm.agent.internal.mqtt.MqttTransport;
import io.edgeslm.agent.internal.mqtt.OutboundMessage;
import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.agent.internal.qa.QuestionIntake;
import io.edgeslm.agent.internal.qa.QuestionService;
import io.edgeslm.agent.internal.report.ReportService;
import io.edgeslm.agent.internal.sensor.DemoSimulator;
import io.edgeslm.agent.internal.sensor.SensorIngest;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.sensor.SensorSpec;
import io.edgeslm.agent.internal.sensor.SensorStore;
import io.edgeslm.agent.internal.sensor.SensorWindow;
import io.edgeslm.agent.internal.sensor.sparkplug.SparkplugIngest;
import io.edgeslm.agent.internal.sensor.uns.UnsIngest;
import io.edgeslm.agent.internal.serving.ServingTasks;
import io.edgeslm.agent.internal.serving.ServingTasksFactory;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.update.ConnectionUpdateLink;
import io.edgeslm.agent.internal.update.NodeProfile;
import io.edgeslm.agent.internal.update.UpdateService;
import io.edgeslm.mqtt.Backoff;
import io.edgeslm.mqtt.MqttConnection;
import io.edgeslm.mqtt.MqttVersion;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeBirth;
import io.edgeslm.protocol.NodeHealth;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.SensorReport;
import io.edgeslm.protocol.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Starts and stops the agent's parts in order: checked configuration, embedded broker (when no
 * broker is configured), journal, serving tasks (model or rules), MQTT transport with its
 * subscriptions, Q&A, sensor ingest, reports, health, demo simulator. Owns every thread it starts
 * and stops them all on shutdown, publishing a clean retained {@code offline} first.
 */
@ApplicationScoped
public class AgentRuntime {

  private static final Logger LOG = Logger.getLogger(AgentRuntime.class);

  static {
    // Netty's pooled buffers (the MQTT client's) in 64 KiB chunks instead of 4 MiB ones, as the
    // Quarkus Netty extension set it while the management port ran on Vert.x (docs/adr/0024);
    // before the MQTT client loads Netty, and only where the operator did not choose.
    if (System.getProperty("io.netty.allocator.maxOrder") == null) {
      System.setProperty("io.netty.allocator.maxOrder", "3");
    }
  }

  @Inject AgentConfig config;
  @Inject AgentMetrics metrics;
  @Inject ServingTasksFactory servingFactory;

  @ConfigProperty(name = "quarkus.application.version", defaultValue = "0.1.0")
  String agentVersion;

  @Inject ManagementServer management;

  private final Clock clock = Clock.systemUTC();
  private volatile ValidatedConfig checked;
  private volatile NodeTopics topics;
  private volatile LocalBroker broker;
  private volatile Journal journal;
  private volatile JournalDrainer drainer;
  private volatile ServingTasks serving;
  private volatile UpdateService updates;

  /** The local broker's connection: sensors, questions and answers, reports. */
  private volatile MqttTransport transport;

  /**
   * The fleet broker's connection (birth, status and will, health, journal, updates), or {@code
   * transport} itself when no fleet broker is configured.
   */
  private volatile MqttTransport uplink;

  private volatile QuestionService questions;
  private volatile EscalatingAnswerer escalation;
  private volatile SensorStore sensors;
  private volatile SensorIngest ingest;
  private volatile PlantIngestConfig plant;
  private volatile SparkplugIngest sparkplug;
  private volatile UnsIngest uns;
  private volatile ReportService reports;
  private volatile ScheduledExecutorService timers;
  private volatile Instant bootedAt;
  private volatile boolean started;
  private volatile String brokerUrl;

  void onStart(@Observes StartupEvent event) {
    try {
      start();
    } catch (AgentException e) {
      // The message names the key, the value, the rule and the fix: a stack trace would only bury
      // it. Exit codes from sysexits.h: 78 configuration, 69 service unavailable.
      int code = e instanceof AgentConfigException ? 78 : 69;
      LOG.errorf("The EdgeSLM node agent cannot start: %s", e.getMessage());
      LOG.debug("Cause", e);
      stop();
      io.quarkus.runtime.Quarkus.asyncExit(code);
    }
  }

  void onStop(@Observes ShutdownEvent event) {
    stop();
    // A first start records the AOT cache, which the JVM writes after the last shutdown hook;
    // without this line, the process seems to hang for a while after Ctrl-C.
    aotCacheOutput(ManagementFactory.getRuntimeMXBean().getInputArguments())
        .ifPresent(
            file ->
                LOG.infof(
                    "Stopped. The JVM now writes its AOT cache to %s (once per JDK and agent"
                        + " build; up to half a minute on 2 cores): later starts are faster",
                    file));
  }

  /**
   * Runs the MQTT client's one-time code ({@link MqttConnection#warmUp}: class initialisation of
   * its builders, codecs and RxJava, no connection) on a thread of its own while this one checks
   * the configuration and opens the journal and the serving stack, so that the connect thread finds
   * it done. It starts here, not earlier in the boot, and after this thread has set up SLF4J, which
   * the client's Netty logs through (two threads initialising SLF4J at once lose log calls, and a
   * second thread racing the log manager's class initialisation before Quarkus booted once
   * deadlocked the start; Micrometer set SLF4J up before its registry was made at the first
   * scrape). Whichever thread reaches a class first initialises it and the other waits, so the
   * start order and its invariants are the same with or without it.
   */
  private static void warmUpMqttClient() {
    org.slf4j.LoggerFactory.getILoggerFactory();
    Thread t =
        new Thread(
            () -> {
              try {
                MqttConnection.warmUp();
              } catch (RuntimeException | LinkageError e) {
                // Only time is lost: the connect thread runs the same code and reports failures.
                LOG.debugf(e, "MQTT client warm-up failed");
              }
            },
            "agent-mqtt-warm-up");
    t.setDaemon(true);
    t.start();
  }

  /** The file of a {@code -XX:AOTCacheOutput=} option among the JVM's arguments. */
  static Optional<String> aotCacheOutput(List<String> jvmArguments) {
    String option = "-XX:AOTCacheOutput=";
    return jvmArguments.stream()
        .filter(a -> a.startsWith(option))
        .map(a -> a.substring(option.length()))
        .reduce((first, last) -> last);
  }

  /**
   * Starts everything.
   *
   * @throws AgentConfigException for an invalid configuration value
   * @throws AgentTransportException when the embedded broker cannot start or the journal cannot be
   *     opened
   */
  public synchronized void start() throws AgentException {
    if (started) {
      return;
    }
    bootedAt = clock.instant();
    warmUpMqttClient();
    checked = ConfigValidator.validate(config, hostName());
    plant = PlantIngestConfig.validate(config, checked.sensors().size());
    topics = Topics.node(checked.site(), checked.nodeId());

    if (checked.embeddedBroker()) {
      AgentConfig.Broker embedded = config.broker();
      broker =
          LocalBrokerLoader.start(
              embedded.embeddedJars(), embedded.embeddedHost(), embedded.embeddedPort());
      brokerUrl = broker.url();
    } else {
      brokerUrl = checked.brokerUrl().orElseThrow().toString();
    }

    try {
      journal =
          Journal.open(
              checked.journalDir(), config.journal().maxEntries(), config.journal().maxBytes());
    } catch (IOException e) {
      throw new AgentConfigException(
          "edgeslm.agent.journal.dir",
          "Cannot open the journal in "
              + checked.journalDir()
              + ": "
              + e.getMessage()
              + ". Create the directory with write access for the agent's user, or set"
              + " edgeslm.agent.journal.dir.",
          e);
    }

    sensors = new SensorStore(checked.sensors(), plant.maxSensors());
    ServingTasksFactory.Start first = firstModel();
    if (!(first instanceof ServingTasksFactory.Start.Rules)
        || !checked.engine().loadsModelFiles()) {
      LOG.infof("Inference engine: %s", checked.engine().reason());
    }
    serving =
        servingFactory.open(
            checked,
            config.model(),
            first,
            () -> SensorSnapshot.of(sensors, clock.instant()),
            clock,
            () -> {
              if (uplink != null && uplink.isConnected()) {
                announce();
              }
            });
    timers =
        Executors.newScheduledThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "agent-timer");
              t.setDaemon(true);
              return t;
            });

    AgentConfig.Broker b = config.broker();
    boolean split = checked.splitBrokers();
    // Without a fleet broker, one connection carries everything and holds the status will; with
    // one, the will and every fleet topic go to the fleet connection only.
    // Plant brokers vary: the local one may speak MQTT 3.1.1 only. The fleet's, and the one broker
    // that carries everything, speak MQTT 5 (the will delay, response topics, user properties).
    transport =
        transport(
            "edgeslm.agent.broker",
            b,
            brokerUrl,
            split ? null : topics.status(),
            split ? MqttVersion.AUTO : MqttVersion.V5);
    uplink =
        split
            ? transport(
                "edgeslm.agent.fleet.broker",
                config.fleet().broker(),
                checked.fleetBrokerUrl().orElseThrow().toString(),
                topics.status(),
                MqttVersion.V5)
            : transport;

    drainer =
        new JournalDrainer(
            journal,
            entry ->
                uplink.publish(
                    new OutboundMessage(
                        entry.topic(),
                        entry.payload(),
                        1,
                        false,
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of("application/json"),
                        List.of(Map.entry("journal-seq", Long.toString(entry.seq()))))),
            uplink::isConnected,
            (split ? config.fleet().broker() : b).connectTimeout().multipliedBy(2));

    questions =
        new QuestionService(
            transport,
            answerer(checked),
            new QuestionIntake.Limits(
                config.qa().maxPayloadBytes(),
                config.qa().maxQuestionChars(),
                config.qa().defaultTimeout()),
            checked.replies(),
            config.qa().queue(),
            Math.max(2, Math.min(8, Runtime.getRuntime().availableProcessors())),
            clock);

    ScheduledExecutorService reportThread =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "agent-report");
              t.setDaemon(true);
              return t;
            });
    reports =
        new ReportService(
            serving.reportWriter(),
            sensors,
            this::journalReport,
            clock,
            config.report().anomalyDebounce(),
            reportThread);
    ingest = new SensorIngest(sensors, clock, reports::onNewAnomaly);

    transport.subscribe(topics.ask(), 1, questions::onMessage);
    if (uplink != transport) {
      // The controller asks over the fleet broker; its answers go back the same way.
      uplink.subscribe(topics.ask(), 1, questions.replyingOn(uplink));
    }
    for (SensorSpec s : checked.sensors()) {
      transport.subscribe(s.topic(), 1, ingest::onMessage);
    }
    subscribePlantData();
    uplink.addListener(
        new MqttTransport.ConnectionListener() {
          @Override
          public void onConnected(boolean firstTime) {
            announce();
            drainer.signal();
          }
        });
    metrics.bind(meters);
    if (split) {
      transport.start();
    }
    // One connection per broker (docs/security.md, "Session takeover"): the update engine gets
    // the fleet's (the only one without a fleet broker), and registers its subscriptions and its
    // journal replay before the first connect attempt, so that it sees the first connect too.
    uplink.start(
        connection -> {
          if (updates != null) {
            // The engine activates the store's model on the serving stack the Q&A and reports use.
            updates.start(
                serving.modelRuntime(), ConnectionUpdateLink.over(connection), checked.modelPath());
          }
        });

    long healthMs = config.health().interval().toMillis();
    timers.scheduleAtFixedRate(this::journalHealth, healthMs, healthMs, TimeUnit.MILLISECONDS);
    long reportMs = config.report().interval().toMillis();
    timers.scheduleAtFixedRate(reports::onSchedule, reportMs, reportMs, TimeUnit.MILLISECONDS);
    if (checked.simulator()) {
      DemoSimulator sim =
          new DemoSimulator(
              checked.sensors(),
              42,
              (topic, payload) ->
                  transport.publish(OutboundMessage.json(topic, payload, 0, false)));
      long period = config.demo().period().toMillis();
      timers.scheduleAtFixedRate(
          () -> {
            if (transport.isConnected()) {
              sim.tick();
            }
          },
          0,
          period,
          TimeUnit.MILLISECONDS);
      // The banner invites a question; asked before the first simulated readings come back
      // through the broker, it would be answered with "no sensor readings yet".
      awaitFirstReadings(checked.sensors(), config.broker().connectTimeout().multipliedBy(2));
    }
    started = true;
    writeRunInfo();
    System.out.println(
        Banner.text(
            checked,
            topics,
            brokerUrl,
            Banner.Access.of(
                brokerUrl, config.broker().tlsCa(), config.broker().username().isPresent()),
            serving,
            config.demo().period(),
            management.port()));
  }

  /**
   * A transport to {@code url} with the settings under {@code prefix}, speaking {@code version};
   * with a will on {@code willTopic}, or none when it is null.
   */
  private MqttTransport transport(
      String prefix, AgentConfig.Connection c, String url, String willTopic, MqttVersion version)
      throws AgentException {
    return new MqttTransport(
        new MqttTransport.Settings(
            url,
            checked.nodeId(),
            c.username(),
            c.password(),
            BrokerTls.options(prefix, c).orElse(null),
            c.keepAlive(),
            c.connectTimeout(),
            new Backoff(Duration.ofMillis(500), c.maxReconnectDelay()),
            c.maxInflight(),
            c.inboundQueue(),
            willTopic,
            willTopic == null ? null : NodeStatus.willPayload(),
            c.willDelay(),
            version,
            prefix));
  }

  /**
   * Waits, at most {@code limit}, until every sensor in {@code specs} holds a reading. Returns
   * early when it does; on timeout the agent starts anyway (the broker may be slow or down), and
   * questions are answered from whatever has arrived.
   */
  private void awaitFirstReadings(List<SensorSpec> specs, Duration limit) {
    long end = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < end) {
      boolean all =
          specs.stream()
              .allMatch(s -> sensors.byId(s.id()).flatMap(SensorWindow::latest).isPresent());
      if (all) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    LOG.warnf(
        "No simulated reading came back through the broker within %d ms; starting anyway",
        limit.toMillis());
  }

  /**
   * Sparkplug B groups and UNS patterns. Only subscribe and a QoS 0 publish (rebirth requests) are
   * used from the transport.
   */
  private void subscribePlantData() {
    if (plant.sparkplug().isPresent()) {
      SparkplugIngest.Settings settings = plant.sparkplug().get();
      sparkplug =
          new SparkplugIngest(
              settings,
              sensors,
              ingest,
              clock,
              (topic, payload) ->
                  transport.publish(
                      new OutboundMessage(
                          topic,
                          payload,
                          0,
                          false,
                          Optional.empty(),
                          Optional.empty(),
                          Optional.empty(),
                          List.of())));
      for (String filter : settings.filters()) {
        transport.subscribe(filter, 1, sparkplug::onMessage);
      }
    }
    if (!plant.unsRoutes().isEmpty()) {
      uns = new UnsIngest(plant.unsRoutes(), plant.unsMaxPayloadBytes(), sensors, ingest);
      for (String filter : uns.filters()) {
        transport.subscribe(filter, 1, uns.handlerFor(filter));
      }
    }
  }

  /**
   * What to serve first. With updates on, the store's verified active model wins over the
   * configured path, which only seeds the store the first time (a signed bundle directory is
   * imported through the update gate; a plain GGUF file is served as configured, outside the store,
   * until an update replaces it).
   */
  private ServingTasksFactory.Start firstModel() throws AgentConfigException {
    if (checked.updates().isEmpty()) {
      return checked
          .modelPath()
          .<ServingTasksFactory.Start>map(ServingTasksFactory.Start.PlainGguf::new)
          .orElse(new ServingTasksFactory.Start.Rules());
    }
    updates =
        UpdateService.open(
            checked.updates().get(),
            new NodeProfile(
                checked.nodeId(),
                UpdateService.architecture(),
                config.deviceClass(),
                SystemProbe.ramTotalBytes() >> 20,
                checked.labels(),
                agentVersion,
                Map.of()),
            topics,
            clock);
    Optional<StoredModel> active = updates.active();
    if (active.isPresent()) {
      LOG.infof("Serving the model store's active model %s", active.get().describe());
      return new ServingTasksFactory.Start.Awaiting(
          "model loading: " + active.get().describe() + " from the model store",
          checked.modelPath().filter(p -> !UpdateService.isBundle(p)));
    }
    if (checked.modelPath().isPresent()) {
      Path path = checked.modelPath().get();
      if (UpdateService.isBundle(path)) {
        LOG.infof("The model store is empty: importing the configured bundle %s", path);
        return new ServingTasksFactory.Start.Awaiting(
            "model loading: importing the configured bundle " + path, Optional.empty());
      }
      return new ServingTasksFactory.Start.PlainGguf(path);
    }
    return new ServingTasksFactory.Start.Rules();
  }

  /** Stops everything; safe to call twice. */
  public synchronized void stop() {
    started = false;
    removeRunInfo();
    // The meter registry (AgentMetrics, a singleton) outlives this runtime (dev-mode reloads,
    // tests): leave nothing behind that would keep reporting stopped objects or shadow the next
    // registration.
    removeMetrics();
    if (timers != null) {
      timers.shutdownNow();
    }
    if (questions != null) {
      questions.close();
    }
    if (drainer != null) {
      drainer.close();
    }
    UpdateService u = updates;
    updates = null;
    if (u != null) {
      u.close();
    }
    MqttTransport up = uplink;
    if (up != null) {
      up.close(Json.write(NodeStatus.shutdown(clock.instant())));
    }
    if (transport != null && transport != up) {
      transport.close();
    }
    if (serving != null) {
      serving.close();
    }
    LocalBroker b = broker;
    broker = null;
    if (b != null) {
      b.close();
    }
  }

  private String runInfoText;

  /**
   * Removes the run-info file at shutdown if it is still this agent's, so that {@code ./run-agent
   * ask} says no agent runs instead of asking a stopped one.
   */
  private void removeRunInfo() {
    String mine = runInfoText;
    runInfoText = null;
    if (mine == null || config.runInfoFile().isEmpty()) {
      return;
    }
    java.nio.file.Path file = java.nio.file.Path.of(config.runInfoFile().get());
    try {
      if (java.nio.file.Files.isRegularFile(file)
          && java.nio.file.Files.readString(file).equals(mine)) {
        java.nio.file.Files.delete(file);
      }
    } catch (IOException e) {
      LOG.warnf("Could not remove the run-info file %s: %s", file, e.getMessage());
    }
  }

  private void writeRunInfo() {
    if (config.runInfoFile().isEmpty()) {
      return;
    }
    java.nio.file.Path file = java.nio.file.Path.of(config.runInfoFile().get());
    String text =
        "# Written by the EdgeSLM node agent at start-up; read by ./run-agent ask.\n"
            + "broker="
            + brokerUrl
            + checked.fleetBrokerUrl().map(u -> "\nfleet-broker=" + u).orElse("")
            + "\nask-topic="
            + topics.ask()
            + "\nreport-topic="
            + topics.report()
            + "\nnode-id="
            + checked.nodeId()
            + "\nmanagement-port="
            + management.port()
            + "\npid="
            + ProcessHandle.current().pid()
            + "\n";
    try {
      if (file.getParent() != null) {
        java.nio.file.Files.createDirectories(file.getParent());
      }
      java.nio.file.Files.writeString(file, text);
      runInfoText = text;
    } catch (IOException e) {
      LOG.warnf("Could not write the run-info file %s: %s", file, e.getMessage());
    }
  }

  private void announce() {
    uplink.publish(
        OutboundMessage.json(
            topics.status(),
            Json.write(
                new NodeStatus(
                    Protocol.SCHEMA_VERSION,
                    NodeState.ONLINE,
                    clock.instant(),
                    storeProblem().orElse(null),
                    serving.model().orElse(null),
                    serving.model().isPresent() ? serving.adapter().orElse(null) : null)),
            1,
            true));
    uplink.publish(OutboundMessage.json(topics.birth(), Json.write(birth()), 1, true));
  }

  /**
   * What the retained status says about the model store when a stored model failed its re-check at
   * boot (the reason code first), bounded to the status's 200 characters; the journal has it whole.
   */
  private Optional<String> storeProblem() {
    UpdateService u = updates;
    return u == null
        ? Optional.empty()
        : u.servingProblem().map(p -> p.length() <= 200 ? p : p.substring(0, 197) + "...");
  }

  NodeBirth birth() {
    return new NodeBirth(
        Protocol.SCHEMA_VERSION,
        agentVersion,
        System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT),
        config.deviceClass(),
        SystemProbe.ramTotalBytes(),
        checked.labels(),
        serving.model().orElse(null),
        null,
        bootedAt,
        clock.instant());
  }

  /** The health message now. */
  public NodeHealth health() {
    Optional<String> why = notReadyReason();
    long total = SystemProbe.ramTotalBytes();
    return new NodeHealth(
        Protocol.SCHEMA_VERSION,
        clock.instant(),
        (int) Math.max(1, config.health().interval().toSeconds()),
        why.isEmpty(),
        why.map(AgentRuntime::boundedReason).orElse(null),
        serving.source(),
        serving.model().orElse(null),
        serving.tokensPerSecond().orElse(null),
        questions.p95().map(Duration::toMillis).orElse(null),
        serving.queueDepth() + questions.depth(),
        questions.received() + reports.written() + reports.failed(),
        questions.refused() + serving.errors() + reports.failed(),
        Math.min(SystemProbe.ramUsedBytes(), total),
        total,
        SystemProbe.diskFreeBytes(
            checked
                .updates()
                .map(u -> u.dataDir())
                .orElse(checked.modelPath().orElse(checked.journalDir()))),
        SystemProbe.cpuTemperatureC().isPresent()
            ? SystemProbe.cpuTemperatureC().getAsDouble()
            : null,
        serving.activationScore().orElse(null),
        serving.model().isPresent() ? serving.adapter().orElse(null) : null);
  }

  /**
   * NodeHealth allows 500 characters of reason; a reason that quotes a long path and a native
   * loader's message is longer, and the whole health message would be refused.
   */
  static String boundedReason(String why) {
    return why.length() <= 500 ? why : why.substring(0, 497) + "...";
  }

  private void journalHealth() {
    try {
      journal.append(topics.health(), Json.write(health()));
      drainer.signal();
    } catch (IOException | RuntimeException e) {
      LOG.errorf(e, "Could not journal a health message");
    }
  }

  private void journalReport(SensorReport report) {
    try {
      byte[] json = Json.write(report);
      journal.append(topics.report(), json);
      drainer.signal();
      if (uplink != transport && transport.isConnected()) {
        // Plant operators read reports on the local broker at once; the fleet gets the
        // journaled copy, in order, whenever its uplink is up.
        transport.publish(OutboundMessage.json(topics.report(), json, 1, false));
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Why the agent is not ready, or empty when it is. */
  public Optional<String> notReadyReason() {
    if (!started || transport == null) {
      return Optional.of("starting");
    }
    if (!transport.isConnected()) {
      return Optional.of("broker not connected: " + transport.lastError());
    }
    return serving.notReadyReason();
  }

  public boolean isStarted() {
    return started;
  }

  /** Whether the local broker's connection (the only one without a fleet broker) is up. */
  public boolean isBrokerConnected() {
    return transport != null && transport.isConnected();
  }

  /**
   * The MQTT version the local broker's connection speaks ("5" or "3.1.1"), once it has connected:
   * with a fleet broker it falls back to 3.1.1 for a plant broker that refuses version 5.
   */
  public Optional<String> brokerMqttVersion() {
    return transport == null
        ? Optional.empty()
        : transport
            .connection()
            .map(io.edgeslm.mqtt.MqttConnection::version)
            .flatMap(
                v ->
                    switch (v) {
                      case V5 -> Optional.of("5");
                      case V3_1_1 -> Optional.of("3.1.1");
                      case AUTO -> Optional.<String>empty();
                    });
  }

  /** Whether the fleet's connection is up: the local one when no fleet broker is configured. */
  public boolean isFleetConnected() {
    return uplink != null && uplink.isConnected();
  }

  public Optional<ServingTasks> serving() {
    return Optional.ofNullable(serving);
  }

  public String brokerUrl() {
    return brokerUrl;
  }

  /** The fleet broker's URL, when one is configured and the agent runs. */
  public Optional<String> fleetBrokerUrl() {
    ValidatedConfig c = checked;
    return c == null ? Optional.empty() : c.fleetBrokerUrl().map(Object::toString);
  }

  public Optional<NodeTopics> topics() {
    return Optional.ofNullable(topics);
  }

  public Optional<Journal> journal() {
    return Optional.ofNullable(journal);
  }

  /** The update side, when updates are on and the agent runs. */
  public Optional<UpdateService> updates() {
    return Optional.ofNullable(updates);
  }

  /**
   * Forgets this runtime's meters and removes every {@code edgeslm.agent.*} meter from the registry
   * if it was made.
   */
  private void removeMetrics() {
    metrics.unbind(
        meters,
        registry ->
            registry.getMeters().stream()
                .filter(m -> m.getId().getName().startsWith("edgeslm.agent."))
                .forEach(registry::remove));
  }

  /**
   * The serving stack's answerer, wrapped in the escalation shell when the plant turned escalation
   * on; off (the default) the answerer is the serving stack's own and nothing can leave the node.
   */
  private Answerer answerer(ValidatedConfig checked) {
    Answerer own = serving.answerer();
    EscalationSettings settings = checked.escalation();
    if (settings.target().isEmpty()) {
      LOG.info("Escalation: off (no question or sensor value leaves this node)");
      return own;
    }
    EscalationTarget target =
        switch (settings.target().get()) {
          case EscalationSettings.Node n -> {
            PeerNodeTarget p = new PeerNodeTarget(transport, n, checked.nodeId(), clock);
            p.subscribe();
            yield p;
          }
          case EscalationSettings.Endpoint e ->
              new EndpointTarget(
                  e,
                  settings.timeout().compareTo(java.time.Duration.ofSeconds(10)) < 0
                      ? settings.timeout()
                      : java.time.Duration.ofSeconds(10));
        };
    EscalationPolicy p = settings.policy();
    LOG.infof(
        "Escalation: on, to %s (min token probability %s, invalid answers %s, tasks %s; sensor"
            + " values that may go along: %s; timeout %s, at most %d at once)",
        target.label(),
        p.minTokenProbability(),
        p.onInvalidAnswer() ? "escalated" : "kept",
        p.tasks().isEmpty() ? "all" : String.join(",", new java.util.TreeSet<>(p.tasks())),
        p.sensorAllowList().isEmpty() ? "none" : String.join(",", p.sensorAllowList()),
        settings.timeout(),
        settings.maxConcurrent());
    escalation = new EscalatingAnswerer(own, settings, target, clock);
    return escalation;
  }

  /** This runtime's meters, registered when the registry is made (the first scrape) or now. */
  private final Consumer<MeterRegistry> meters = this::registerMetrics;

  private void registerMetrics(MeterRegistry registry) {
    EscalatingAnswerer esc = escalation;
    for (EscalationDecision.Trigger t : EscalationDecision.Trigger.values()) {
      for (EscalatingAnswerer.Outcome o : EscalatingAnswerer.Outcome.values()) {
        FunctionCounter.builder(
                "edgeslm.agent.escalations",
                this,
                r -> r.escalation == null ? 0 : r.escalation.count(t, o))
            .description("questions handed to the escalation target, by trigger and outcome")
            .tag("trigger", EscalatingAnswerer.tag(t))
            .tag("outcome", o.tag())
            .tag("target", esc == null ? "none" : esc.targetLabel())
            .register(registry);
      }
    }
    Gauge.builder("edgeslm.agent.escalations.in.flight", () -> esc == null ? 0 : esc.inFlight())
        .description("escalated questions waiting for their target")
        .register(registry);
    Gauge.builder("edgeslm.agent.mqtt.connected", () -> transport.isConnected() ? 1 : 0)
        .description("1 while connected to the broker")
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.mqtt.connects", transport, MqttTransport::connectCount)
        .register(registry);
    Gauge.builder("edgeslm.agent.mqtt.inflight", transport, MqttTransport::inflight)
        .register(registry);
    FunctionCounter.builder(
            "edgeslm.agent.mqtt.inbound.dropped", transport, MqttTransport::droppedInbound)
        .register(registry);
    FunctionCounter.builder(
            "edgeslm.agent.mqtt.publish.failures", transport, MqttTransport::publishFailures)
        .register(registry);
    if (uplink != transport) {
      MqttTransport up = uplink;
      Gauge.builder("edgeslm.agent.fleet.mqtt.connected", () -> up.isConnected() ? 1 : 0)
          .description("1 while connected to the fleet broker")
          .register(registry);
      FunctionCounter.builder("edgeslm.agent.fleet.mqtt.connects", up, MqttTransport::connectCount)
          .register(registry);
      FunctionCounter.builder(
              "edgeslm.agent.fleet.mqtt.publish.failures", up, MqttTransport::publishFailures)
          .register(registry);
    }
    FunctionCounter.builder(
            "edgeslm.agent.questions.received", questions, QuestionService::received)
        .register(registry);
    FunctionCounter.builder(
            "edgeslm.agent.questions.answered", questions, QuestionService::answered)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.questions.refused", questions, QuestionService::refused)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.questions.busy", questions, QuestionService::busy)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.questions.dropped", questions, QuestionService::dropped)
        .register(registry);
    FunctionCounter.builder(
            "edgeslm.agent.questions.forbidden.reply.topic",
            questions,
            QuestionService::forbiddenReplyTopics)
        .description("questions refused because their reply topic is outside the reply namespace")
        .register(registry);
    Gauge.builder("edgeslm.agent.queue.depth", () -> questions.depth() + serving.queueDepth())
        .description("questions admitted and not finished plus the engine's queue")
        .register(registry);
    Gauge.builder(
            "edgeslm.agent.qa.latency.p95.seconds",
            () -> questions.p95().map(d -> d.toNanos() / 1e9).orElse(0.0))
        .register(registry);
    Gauge.builder(
            "edgeslm.agent.engine.ttft.p50.seconds",
            () -> serving.engineTimeToFirstTokenP50().map(d -> d.toNanos() / 1e9).orElse(0.0))
        .description("the engine's own median time to first token, worker included")
        .register(registry);
    Gauge.builder("edgeslm.agent.tokens.per.second", () -> serving.tokensPerSecond().orElse(0.0))
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.reports.written", reports, ReportService::written)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.reports.failed", reports, ReportService::failed)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.sensor.readings", ingest, SensorIngest::accepted)
        .register(registry);
    FunctionCounter.builder("edgeslm.agent.sensor.rejected", ingest, SensorIngest::rejected)
        .register(registry);
    if (sparkplug != null) {
      FunctionCounter.builder(
              "edgeslm.agent.sparkplug.metrics", sparkplug, SparkplugIngest::metrics)
          .description("Sparkplug B metric values decoded and stored")
          .register(registry);
      FunctionCounter.builder(
              "edgeslm.agent.sparkplug.refused", sparkplug, SparkplugIngest::refused)
          .description("Sparkplug B payloads refused: oversized or not protobuf")
          .register(registry);
      FunctionCounter.builder(
              "edgeslm.agent.sparkplug.rebirths", sparkplug, SparkplugIngest::rebirths)
          .description("rebirth requests (NCMD) sent")
          .register(registry);
      FunctionCounter.builder(
              "edgeslm.agent.sparkplug.problems", sparkplug, SparkplugIngest::problems)
          .description("sequence gaps, unknown aliases, data before birth")
          .register(registry);
    }
    if (uns != null) {
      FunctionCounter.builder("edgeslm.agent.uns.values", uns, UnsIngest::values)
          .register(registry);
      FunctionCounter.builder("edgeslm.agent.uns.refused", uns, UnsIngest::refused)
          .register(registry);
    }
    Gauge.builder("edgeslm.agent.sensors", sensors, SensorStore::size)
        .description("sensors held, configured and discovered")
        .register(registry);
    Gauge.builder("edgeslm.agent.journal.entries", journal, Journal::size).register(registry);
    Gauge.builder("edgeslm.agent.journal.bytes", journal, Journal::bytes).register(registry);
    FunctionCounter.builder("edgeslm.agent.journal.dropped", journal, Journal::dropped)
        .register(registry);
    Gauge.builder("edgeslm.agent.model.ready", () -> serving.ready() ? 1 : 0).register(registry);
    FunctionCounter.builder("edgeslm.agent.engine.restarts", this, r -> r.serving.engineRestarts())
        .description("engine processes restarted after a crash or a hang (llama-server, worker)")
        .register(registry);
    // llama-server's own metrics (its /metrics, read through the engine), under our prefix;
    // 0 while another engine or the rules serve.
    for (String sample : LLAMA_SERVER_SAMPLES) {
      Gauge.builder(
              "edgeslm.agent.engine." + sample.replace(':', '.'),
              () -> serving.engineMetrics().getOrDefault(sample, 0.0))
          .description("llama-server's " + sample)
          .register(registry);
    }
    if (updates != null) {
      UpdateService u = updates;
      Gauge.builder(
              "edgeslm.agent.update.in.progress",
              () -> u.engine().flatMap(e -> e.currentAssignment()).isPresent() ? 1 : 0)
          .description("1 while an update (MQTT or USB) is downloading, verifying or activating")
          .register(registry);
      Gauge.builder(
              "edgeslm.agent.update.model.version",
              () -> u.active().map(m -> m.version()).orElse(0L))
          .description("release version of the store's active model, 0 when none")
          .register(registry);
    }
  }

  /** The llama-server samples folded into the agent's metrics (its /metrics, llama.cpp v0.5.0). */
  static final java.util.List<String> LLAMA_SERVER_SAMPLES =
      java.util.List.of(
          "llamacpp:prompt_tokens_total",
          "llamacpp:prompt_tokens_cached_total",
          "llamacpp:prompt_seconds_total",
          "llamacpp:tokens_predicted_total",
          "llamacpp:tokens_predicted_seconds_total",
          "llamacpp:n_decode_total",
          "llamacpp:prompt_tokens_seconds",
          "llamacpp:predicted_tokens_seconds",
          "llamacpp:requests_processing",
          "llamacpp:requests_deferred",
          "llamacpp:n_busy_slots_per_decode");

  private static String hostName() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "node";
    }
  }
}
