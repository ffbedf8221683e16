package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.internal.qa.Answerer;
import io.edgeslm.agent.internal.report.ReportWriter;
import io.edgeslm.agent.internal.update.ModelRuntime;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Source;
import java.util.Optional;

/**
 * What serves questions and reports: a model behind the inference scheduler, or the rules. The
 * agent's MQTT, health and journal code sees only this.
 */
public interface ServingTasks extends AutoCloseable {

  Answerer answerer();

  ReportWriter reportWriter();

  /** What serves now. */
  Source source();

  /** The serving model, exactly when {@link #source()} is {@link Source#MODEL}. */
  Optional<ModelRef> model();

  /** The LoRA adapter applied on top of {@link #model()}, if one is. */
  default Optional<ModelRef> adapter() {
    return Optional.empty();
  }

  /** Whether requests can be served now (the model is loaded, or rules are in use). */
  boolean ready();

  /** Why not ready, for health output; empty when ready. */
  Optional<String> notReadyReason();

  /** Whether the engine and its supervisor work (liveness); rules are always alive. */
  boolean alive();

  /** Requests waiting in the engine's scheduler. */
  int queueDepth();

  /** Generation speed over recent model traffic, if any. */
  Optional<Double> tokensPerSecond();

  /**
   * The score of the activation check the serving model passed when this process activated it (an
   * update with an evaluation file); empty for rules, a model started without a check, or after a
   * restart (the check is not run again).
   */
  default Optional<Double> activationScore() {
    return Optional.empty();
  }

  /**
   * The engine's own median time to first token (dispatch to first token, worker included) over
   * recent requests, if the model has served any.
   */
  Optional<java.time.Duration> engineTimeToFirstTokenP50();

  /** Requests that ended in an error or a fallback since start. */
  long errors();

  /**
   * Engine processes started again after a crash or a hang (llama-server or the worker), summed
   * over the models swapped in since start; 0 for rules and for engines the agent does not run.
   */
  default long engineRestarts() {
    return 0;
  }

  /**
   * The serving engine's own metrics by Prometheus sample name (llama-server's {@code llamacpp:*});
   * empty for rules and engines without them.
   */
  default java.util.Map<String, Double> engineMetrics() {
    return java.util.Map.of();
  }

  /**
   * The serving stack as the update engine drives it: activations swap the model that answers
   * questions and writes reports here, so there is one inference scheduler per agent.
   */
  ModelRuntime modelRuntime();

  @Override
  void close();
}
