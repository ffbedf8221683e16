package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.config.EngineChoice;
import io.edgeslm.agent.internal.config.ValidatedConfig;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.agent.internal.tasks.TaskLimits;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.SwapMode;
import io.edgeslm.protocol.ModelRef;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Supplier;

/** Opens the {@link ServingTasks} the configuration asks for: rules, or a model plus rules. */
@ApplicationScoped
public class ServingTasksFactory {

  /** What the serving stack starts with. */
  public sealed interface Start {
    /** Rules only, until (if ever) the update engine activates a model. */
    record Rules() implements Start {}

    /** The operator's plain GGUF file, loaded in the background now (today's behaviour). */
    record PlainGguf(Path gguf) implements Start {}

    /**
     * A model the update engine is about to activate (the store's); not ready until then. {@code
     * fallback} is the operator's plain GGUF, served if no verified model is left.
     */
    record Awaiting(String why, Optional<Path> fallback) implements Start {}
  }

  /**
   * The model of an external server: the agent does not load or verify it, so its identity names
   * the endpoint (digest of "http &lt;url&gt; &lt;model id&gt;"), not weights.
   */
  static TaskServing.ModelPlan external(EngineChoice engine, AgentConfig.Model model) {
    EngineConfig.HttpBackend h = (EngineConfig.HttpBackend) engine.config();
    String name = model.name().orElse(ModelIdentity.nameOf(Path.of(h.model().replace(':', '-'))));
    byte[] digest;
    try {
      digest =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(
                  ("http " + h.baseUri() + " " + h.model())
                      .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    ModelRef ref =
        ModelRef.of(name, model.version(), "sha256:" + java.util.HexFormat.of().formatHex(digest));
    return new TaskServing.ModelPlan(
        Path.of("external-" + name), model.name(), model.version(), Optional.of(ref));
  }

  /**
   * @param checked the checked configuration (model path, update settings)
   * @param model the model settings
   * @param start what to serve first
   * @param snapshots current sensor windows
   * @param clock wall clock
   * @param onModelChange called after a model became active (to publish a new birth message)
   * @throws AgentConfigException when a plain model path is not a GGUF file
   */
  public ServingTasks open(
      ValidatedConfig checked,
      AgentConfig.Model model,
      Start start,
      Supplier<SensorSnapshot> snapshots,
      Clock clock,
      Runnable onModelChange)
      throws AgentConfigException {
    Optional<TaskServing.ModelPlan> plan = Optional.empty();
    Optional<String> awaited = Optional.empty();
    Optional<TaskServing.ModelPlan> fallback = Optional.empty();
    switch (start) {
      case Start.PlainGguf p -> {
        if (!Files.isRegularFile(p.gguf())) {
          throw new AgentConfigException(
              "edgeslm.agent.model.path",
              "Invalid configuration edgeslm.agent.model.path='"
                  + p.gguf()
                  + "': expected a GGUF model file, or a signed bundle directory with updates on"
                  + " (edgeslm.agent.updates.trust-store or pinned-keys set). Point it at the"
                  + " .gguf file, or configure the release keys.",
              null);
        }
        plan = Optional.of(new TaskServing.ModelPlan(p.gguf(), model.name(), model.version()));
      }
      case Start.Awaiting a -> {
        awaited = Optional.of(a.why());
        fallback =
            a.fallback()
                .filter(Files::isRegularFile)
                .map(f -> new TaskServing.ModelPlan(f, model.name(), model.version()));
      }
      case Start.Rules r -> {
        if (!checked.engine().loadsModelFiles()) {
          plan = Optional.of(external(checked.engine(), model));
        }
      }
    }
    int threads =
        model.threads() == 0 ? Runtime.getRuntime().availableProcessors() : model.threads();
    TaskLimits d = TaskLimits.qaDefaults();
    TaskLimits qa =
        new TaskLimits(
            model.answerTokens(),
            model.answerDeadline(),
            d.contextTokens(),
            model.temperature().orElse(d.temperature()),
            model.seed().orElse(d.seed()));
    SwapMode swap = checked.updates().map(u -> u.swapMode()).orElse(SwapMode.AUTO);
    TaskServing.Settings settings =
        new TaskServing.Settings(
            threads,
            model.context(),
            qa,
            TaskLimits.reportDefaults().withNPredict(model.reportTokens()),
            swap,
            checked.engine().config());
    return new TaskServing(clock, snapshots, settings, plan, awaited, fallback, onModelChange);
  }
}
