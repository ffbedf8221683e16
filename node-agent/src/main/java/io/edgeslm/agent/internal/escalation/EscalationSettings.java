package io.edgeslm.agent.internal.escalation;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The checked escalation configuration: the pure policy, where escalated questions go, and the
 * bounds of the I/O shell.
 *
 * @param policy when to escalate and which sensor values may go along
 * @param target where escalated questions go, present exactly when the policy is enabled
 * @param timeout longest wait for the target's answer
 * @param maxConcurrent escalations in flight at once
 */
public record EscalationSettings(
    EscalationPolicy policy, Optional<Target> target, Duration timeout, int maxConcurrent) {

  public EscalationSettings {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(timeout, "timeout");
    if (policy.enabled() != target.isPresent()) {
      throw new IllegalArgumentException("an enabled policy needs a target, a disabled one none");
    }
    if (maxConcurrent < 1) {
      throw new IllegalArgumentException("maxConcurrent must be positive: " + maxConcurrent);
    }
  }

  /** The default: nothing leaves the node. */
  public static EscalationSettings off() {
    return new EscalationSettings(
        EscalationPolicy.off(), Optional.empty(), Duration.ofSeconds(20), 1);
  }

  /** Where escalated questions go. */
  public sealed interface Target permits Node, Endpoint {
    /** The value of {@code answeredBy} for answers from this target. */
    String label();
  }

  /**
   * Another node, asked on its ask topic over the local broker.
   *
   * @param site the node's site
   * @param nodeId the node's id
   */
  public record Node(String site, String nodeId) implements Target {
    public Node {
      Objects.requireNonNull(site, "site");
      Objects.requireNonNull(nodeId, "nodeId");
    }

    @Override
    public String label() {
      return "node:" + nodeId;
    }
  }

  /**
   * An OpenAI-compatible endpoint inside the plant.
   *
   * @param name its name in {@code answeredBy}
   * @param url its root URL; the node posts to {@code /v1/chat/completions} below it
   * @param model the model id sent with each request
   * @param apiKey bearer token, if the endpoint needs one
   * @param answerTokens {@code max_tokens} of each request
   * @param temperature sampling temperature of each request (0: greedy); above 0 the request
   *     carries seed 0, so the same question gets the same answer
   */
  public record Endpoint(
      String name,
      URI url,
      String model,
      Optional<String> apiKey,
      int answerTokens,
      double temperature)
      implements Target {
    public Endpoint {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(model, "model");
      Objects.requireNonNull(apiKey, "apiKey");
    }

    @Override
    public String label() {
      return "endpoint:" + name;
    }

    @Override
    public String toString() {
      // Never print the key.
      return "Endpoint[name=" + name + ", url=" + url + ", model=" + model + "]";
    }
  }
}
