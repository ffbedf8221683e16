package io.edgeslm.agent.it;

import static io.edgeslm.agent.it.LlamaServerAgent.ENGINE;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.Answer;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.NodeState;
import io.edgeslm.protocol.NodeStatus;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Source;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.MosquittoConfig;
import io.edgeslm.testkit.MqttBrokerExtension;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent and its llama-server child (engine {@code llama-server}, a synthetic model,
 * the pinned llama.cpp): readiness waits for the model to load and warm up; a SIGKILL of the child
 * leaves the agent, its MQTT status and its liveness up while the rules answer, until a new server
 * answers; and liveness goes down only once the engine has given up restarting.
 *
 * <p>The agent runs the real llama-server through a small wrapper script that holds its start while
 * a gate file exists, or refuses to start while another file exists; otherwise it {@code exec}s the
 * binary, so the pid is the server's. That makes "while the model loads" and "while the engine
 * restarts" last as long as the test needs instead of racing a tiny model's sub-second load.
 */
class LlamaServerChildIT {
  private static final Duration WAIT = LlamaServerAgent.WAIT;
  private static final String SITE = "child";

  @RegisterExtension
  static final MqttBrokerExtension BROKER =
      MqttBrokerExtension.privateMosquitto(MosquittoConfig.defaults());

  @TempDir Path work;
  // One node per test: no retained status of an earlier test's agent on its topics.
  private final String node = "child-" + UUID.randomUUID().toString().substring(0, 8);

  @Test
  void readiness_isDownWhileLlamaServerLoads_andUpOnlyOnceTheWarmUpHasRun() throws Exception {
    Path gate = Files.createFile(work.resolve("hold-llama-server"));
    int port = AgentProcess.freePort();
    ManagementEndpoint management = new ManagementEndpoint(port);
    try (AgentProcess agent = AgentProcess.start(env(port, wrapper(gate)), work)) {
      // Up to the broker connection and the engine's start, which the gate holds.
      long until = System.nanoTime() + WAIT.toNanos();
      HttpResponse<String> ready = null;
      while (System.nanoTime() < until
          && !(ready != null
              && ready.body().contains("\"brokerConnected\": true")
              && ready.body().contains("\"reason\": \"model loading\"")
              && serverStarts(agent, gate, Set.of()))) {
        ready = poll(management, "/q/health/ready").orElse(null);
        Thread.sleep(50);
      }
      assertThat(serverStarts(agent, gate, Set.of())).as(agent.output()).isTrue();
      assertThat(ready).as(agent.output()).isNotNull();
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
      assertThat(ready.body()).contains("\"reason\": \"model loading\"");
      assertThat(llamaServer(agent)).as("held: no llama-server yet").isEmpty();
      HttpResponse<String> started = management.get("/q/health/started");
      assertThat(started.statusCode()).as(started.body()).isEqualTo(503);
      // Held for a while longer: still down, while the broker connection is up.
      for (int i = 0; i < 10; i++) {
        HttpResponse<String> r = management.get("/q/health/ready");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        assertThat(r.body()).contains("\"reason\": \"model loading\"");
        Thread.sleep(100);
      }

      Files.delete(gate);
      List<Integer> seen = new ArrayList<>();
      HttpResponse<String> r = management.get("/q/health/ready");
      while (r.statusCode() != 200 && System.nanoTime() < until) {
        seen.add(r.statusCode());
        assertThat(r.body()).contains("\"reason\": \"model loading\"");
        Thread.sleep(20);
        r = management.get("/q/health/ready");
      }
      assertThat(r.statusCode()).as(agent.output()).isEqualTo(200);
      // The first moment it is ready, and no question was asked: the server has already decoded
      // and predicted a token (the warm-up generation), as read through the agent's metrics.
      Map<String, Double> m = management.metrics();
      assertThat(m.get("edgeslm_agent_questions_received_total")).isEqualTo(0.0);
      assertThat(m.get("edgeslm_agent_model_ready")).isEqualTo(1.0);
      assertThat(m.get(ENGINE + "n_decode_total")).as("warm-up decodes").isGreaterThan(0.0);
      assertThat(m.get(ENGINE + "tokens_predicted_total"))
          .as("warm-up token")
          .isGreaterThanOrEqualTo(1.0);
      assertThat(management.get("/q/health/started").statusCode()).isEqualTo(200);
      System.out.printf(
          "readiness: %d DOWN answers after the gate opened, then UP; %s%n",
          seen.size(), lineWith(agent.output(), "ready after"));
    }
  }

  @Test
  void sigkillOfTheLlamaServerChild_agentStaysUp_rulesAnswerMeanwhile_thenANewServerAnswers()
      throws Exception {
    Path gate = work.resolve("hold-llama-server");
    int port = AgentProcess.freePort();
    ManagementEndpoint management = new ManagementEndpoint(port);
    NodeTopics t = Topics.node(SITE, node);
    try (TestMqttClient c = TestMqttClient.connect(BROKER.broker().url());
        AgentProcess agent = startOnline(c, t, port, gate)) {
      Answer first = LlamaServerAgent.askUntilTheModelAnswers(c, t, "What is the oil temperature?");
      assertThat(first).as(agent.output()).isNotNull();
      ProcessHandle server = llamaServer(agent).orElseThrow();
      assertThat(management.metrics().get("edgeslm_agent_engine_restarts_total")).isEqualTo(0.0);

      long fallbacksBefore = count(agent.output(), FELL_BACK);

      // Kill -9 the idle server, with its restart held until the test lets it go.
      Set<Long> beforeTheKill = descendants(agent);
      Files.createFile(gate);
      assertThat(server.destroyForcibly()).isTrue();
      server.onExit().get(30, TimeUnit.SECONDS);
      long until = System.nanoTime() + WAIT.toNanos();
      while (!serverStarts(agent, gate, beforeTheKill) && System.nanoTime() < until) {
        Thread.sleep(50);
      }
      assertThat(serverStarts(agent, gate, beforeTheKill))
          .as("restart under way: " + agent.output())
          .isTrue();
      assertThat(llamaServer(agent)).as("no server runs during the outage").isEmpty();

      // During the outage: the agent lives, and a question gets the rules' answer at once.
      HttpResponse<String> live = management.get("/q/health/live");
      assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
      assertThat(live.body()).contains("\"status\": \"UP\"");
      Answer meanwhile = LlamaServerAgent.askOnce(c, t, "Is the oil of press 3 too hot right now?");
      assertThat(meanwhile.source()).isEqualTo(Source.RULES);
      assertThat(meanwhile.answer()).isNotBlank();
      assertThat(meanwhile.sensors()).extracting(s -> s.sensor()).containsExactly("oil");
      assertThat(count(agent.output(), FELL_BACK))
          .as(agent.output())
          .isGreaterThan(fallbacksBefore);
      assertThat(llamaServer(agent)).as("still held").isEmpty();
      live = management.get("/q/health/live");
      assertThat(live.statusCode()).as(live.body()).isEqualTo(200);

      // Let the restart go: the model answers again, from a new server process.
      Files.delete(gate);
      Answer after = LlamaServerAgent.askUntilTheModelAnswers(c, t, "What is the oil temperature?");
      assertThat(after).as(agent.output()).isNotNull();
      assertThat(after.model().name()).isEqualTo("child-synthetic");
      ProcessHandle replacement = llamaServer(agent).orElseThrow();
      assertThat(replacement.pid()).isNotEqualTo(server.pid());
      assertThat(server.isAlive()).isFalse();
      assertThat(management.metrics().get("edgeslm_agent_engine_restarts_total")).isEqualTo(1.0);
      assertThat(management.get("/q/health/live").statusCode()).isEqualTo(200);
      assertThat(management.get("/q/health/ready").statusCode()).isEqualTo(200);
      assertThat(agent.isAlive()).isTrue();

      // MQTT stayed up: no status but online was published, and the retained one is online.
      assertOnlyOnlineStatusesSince(c, t);
      try (TestMqttClient late = TestMqttClient.connect(BROKER.broker().url())) {
        late.subscribe(t.status());
        assertThat(Json.read(late.next(t.status(), WAIT).payload(), NodeStatus.class).state())
            .isEqualTo(NodeState.ONLINE);
      }
      System.out.printf(
          "crash: llama-server pid %d killed, pid %d answers; %s%n",
          server.pid(), replacement.pid(), lineWith(agent.output(), FELL_BACK));
    }
  }

  @Test
  void llamaServerThatCannotStartAgain_livenessGoesDownOnlyOnceTheEngineGivesUp() throws Exception {
    Path gate = work.resolve("hold-llama-server");
    int port = AgentProcess.freePort();
    ManagementEndpoint management = new ManagementEndpoint(port);
    NodeTopics t = Topics.node(SITE, node);
    // The restart delay capped at 1 s instead of 30 s: the same ten failed restarts before the
    // engine gives up, about 10 s instead of 150 s of waiting for it.
    Map<String, String> env = env(port, wrapper(gate));
    env.put("EDGESLM_AGENT_MODEL_RESTART_BACKOFF_MAX", "1s");
    try (TestMqttClient c = TestMqttClient.connect(BROKER.broker().url());
        AgentProcess agent = startOnline(c, t, env)) {
      assertThat(LlamaServerAgent.askUntilTheModelAnswers(c, t, "What is the oil temperature?"))
          .as(agent.output())
          .isNotNull();
      ProcessHandle server = llamaServer(agent).orElseThrow();

      // Every restart now fails at once: the engine backs off (0.5 s, then 1 s) and gives up
      // after its tenth failed restart in a row.
      Files.createFile(work.resolve(REFUSE));
      assertThat(server.destroyForcibly()).isTrue();
      server.onExit().get(30, TimeUnit.SECONDS);
      long until = System.nanoTime() + Duration.ofMinutes(6).toNanos();
      double restartsWhileUp = 0;
      HttpResponse<String> live = management.get("/q/health/live");
      while (live.statusCode() == 200 && System.nanoTime() < until) {
        restartsWhileUp = management.metrics().get("edgeslm_agent_engine_restarts_total");
        Thread.sleep(500);
        live = management.get("/q/health/live");
      }
      assertThat(live.statusCode()).as(live.body() + agent.output()).isEqualTo(503);
      assertThat(live.body()).contains("\"status\": \"DOWN\"");
      assertThat(restartsWhileUp).as("restarts seen while live was up").isBetween(9.0, 10.0);
      assertThat(management.metrics().get("edgeslm_agent_engine_restarts_total")).isEqualTo(10.0);
      // Down is for the supervisor outside (a container runtime restarts the agent); the agent
      // itself still answers with the rules and stays online.
      Answer rules = LlamaServerAgent.askOnce(c, t, "Is the oil of press 3 too hot right now?");
      assertThat(rules.source()).isEqualTo(Source.RULES);
      assertThat(agent.isAlive()).isTrue();
      assertOnlyOnlineStatusesSince(c, t);
    }
  }

  /**
   * Starts the agent on the gated llama-server, waits until {@code c} sees it online and publishes
   * the oil reading its answers cite. The agent is stopped again if that fails.
   */
  private AgentProcess startOnline(TestMqttClient c, NodeTopics t, int managementPort, Path gate)
      throws Exception {
    return startOnline(c, t, env(managementPort, wrapper(gate)));
  }

  /** As {@link #startOnline(TestMqttClient, NodeTopics, int, Path)}, with the given environment. */
  private AgentProcess startOnline(TestMqttClient c, NodeTopics t, Map<String, String> env)
      throws Exception {
    AgentProcess agent = AgentProcess.start(env, work);
    try {
      LlamaServerAgent.awaitOnline(c, t);
      c.publish(LlamaServerAgent.oilTopic(SITE), "71.2");
      return agent;
    } catch (Exception | Error e) {
      agent.close();
      throw e;
    }
  }

  /** Every status {@code c} received for the node since it last drained them said online. */
  private static void assertOnlyOnlineStatusesSince(TestMqttClient c, NodeTopics t)
      throws Exception {
    List<NodeState> published = new ArrayList<>();
    for (TestMqttClient.Received m : c.drain(t.status())) {
      published.add(Json.read(m.payload(), NodeStatus.class).state());
    }
    assertThat(published).allSatisfy(state -> assertThat(state).isEqualTo(NodeState.ONLINE));
  }

  /** The running llama-server under the agent (the executable, not its guard or the wrapper). */
  private static Optional<ProcessHandle> llamaServer(AgentProcess agent) {
    List<ProcessHandle> found =
        agent
            .handle()
            .descendants()
            .filter(ProcessHandle::isAlive)
            .filter(p -> p.info().command().map(cmd -> cmd.endsWith("/llama-server")).orElse(false))
            .toList();
    assertThat(found).as("llama-server processes under the agent").hasSizeLessThanOrEqualTo(1);
    return found.stream().findFirst();
  }

  /**
   * Whether the agent has started the engine's wrapper (or its guard), which the gate holds, in a
   * process other than {@code earlier} ones.
   */
  private static boolean serverStarts(AgentProcess agent, Path gate, Set<Long> earlier) {
    String wrapper = gate.resolveSibling("llama-server-gated").toString();
    return agent
        .handle()
        .descendants()
        .filter(ProcessHandle::isAlive)
        .filter(p -> !earlier.contains(p.pid()))
        .anyMatch(p -> p.info().commandLine().map(cl -> cl.contains(wrapper)).orElse(false));
  }

  private static Set<Long> descendants(AgentProcess agent) {
    return agent.handle().descendants().map(ProcessHandle::pid).collect(Collectors.toSet());
  }

  private static Optional<HttpResponse<String>> poll(ManagementEndpoint m, String path)
      throws InterruptedException {
    try {
      return Optional.of(m.get(path));
    } catch (IOException notListeningYet) {
      return Optional.empty();
    }
  }

  /**
   * The real llama-server behind a script that waits while {@code gate} exists, and exits at once
   * with status 1 while {@code refuse-llama-server} beside it exists.
   */
  private Path wrapper(Path gate) throws IOException {
    Path script = gate.resolveSibling("llama-server-gated");
    Files.writeString(
        script,
        "#!/bin/sh\n"
            + "if [ -e '"
            + gate.resolveSibling(REFUSE)
            + "' ]; then echo 'refused by the test' >&2; exit 1; fi\n"
            + "while [ -e '"
            + gate
            + "' ]; do sleep 0.05; done\n"
            + "exec '"
            + EscalationIT.LlamaServer.llamaServerBinary()
            + "' \"$@\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  private Map<String, String> env(int managementPort, Path llamaServer) throws IOException {
    Path model = work.resolve("child.gguf");
    if (!Files.exists(model)) {
      LlamaServerAgent.qwen3Model(model, 11);
    }
    Map<String, String> env =
        LlamaServerAgent.env(
            BROKER.broker().url(), SITE, node, managementPort, work, model, "child-synthetic");
    env.put("EDGESLM_AGENT_MODEL_LLAMA_SERVER", llamaServer.toString());
    env.put("EDGESLM_AGENT_MODEL_ANSWER_TOKENS", "16");
    // A question that reaches the held engine waits for it no longer than this, then the rules
    // answer; a tiny model's own answers take milliseconds.
    env.put("EDGESLM_AGENT_MODEL_ANSWER_DEADLINE", "30s");
    return env;
  }

  private static final String REFUSE = "refuse-llama-server";

  /** The agent's log line when the rules answer because the model's engine failed. */
  private static final String FELL_BACK =
      "Rules answered for the model: EngineUnavailableException";

  private static long count(String output, String text) {
    return output.lines().filter(l -> l.contains(text)).count();
  }

  private static String lineWith(String output, String text) {
    return output.lines().filter(l -> l.contains(text)).findFirst().orElse("(no '" + text + "')");
  }
}
