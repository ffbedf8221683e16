package io.edgeslm.agent.internal.serving;

import io.edgeslm.agent.AgentConfig;
import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.config.ValidatedConfig;
import io.edgeslm.agent.internal.sensor.SensorSnapshot;
import io.edgeslm.inference.TaskLimits;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Supplier;

/** Opens the {@link ServingTasks} the configuration asks for: rules, or a model plus rules. */
@ApplicationScoped
public class ServingTasksFactory {

  /**
   * @param checked the checked configuration (model path)
   * @param model the model settings
   * @param snapshots current sensor windows
   * @param clock wall clock
   * @param onModelChange called after a model became active (to publish a new birth message)
   * @throws AgentConfigException when the model path is not a GGUF file
   */
  public ServingTasks open(
      ValidatedConfig checked,
      AgentConfig.Model model,
      Supplier<SensorSnapshot> snapshots,
      Clock clock,
      Runnable onModelChange)
      throws AgentConfigException {
    Optional<TaskServing.ModelPlan> plan = Optional.empty();
    if (checked.modelPath().isPresent()) {
      Path gguf = checked.modelPath().get();
      if (!Files.isRegularFile(gguf)) {
        throw new AgentConfigException(
            "edgeslm.agent.model.path",
            "Invalid configuration edgeslm.agent.model.path='"
                + gguf
                + "': expected a GGUF model file. Point it at the .gguf file (bundle directories"
                + " are installed by the update path).",
            null);
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
      plan =
          Optional.of(
              new TaskServing.ModelPlan(
                  gguf,
                  model.name(),
                  model.version(),
                  threads,
                  model.context(),
                  qa,
                  TaskLimits.reportDefaults().withNPredict(model.reportTokens())));
    }
    return new TaskServing(clock, snapshots, plan, onModelChange);
  }
}
