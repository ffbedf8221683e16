package io.edgeslm.architecture;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The module boundary rules. Code under {@code io.edgeslm.<module>.internal} is reachable only from
 * {@code io.edgeslm.<module>} itself; a module's public API is its root package and any package not
 * named {@code internal}. And the engine does not know the wire: {@code io.edgeslm.inference} runs
 * models and knows neither the MQTT payloads ({@code io.edgeslm.protocol}) nor model signing
 * ({@code io.edgeslm.signing}); the agent translates between them.
 */
final class ModuleBoundaries {

  private static final Pattern MODULE_ROOT =
      Pattern.compile("^(io\\.edgeslm\\.[a-z0-9]+)(\\..*)?$");

  private ModuleBoundaries() {}

  /** The rule, evaluated against whatever classes the caller imported. */
  static ArchRule internalPackagesStayInsideTheirModule() {
    return ArchRuleDefinition.classes()
        .that()
        .resideInAPackage("io.edgeslm..")
        .should(notReachIntoAnotherModulesInternals())
        .because(
            "a module's internal packages are implementation details; other modules use its"
                + " public API (see docs/development.md, Layout)");
  }

  /** Inference depends on neither protocol nor signing, not even on their public API. */
  static ArchRule inferenceKnowsNeitherTheWireNorSigning() {
    return ArchRuleDefinition.noClasses()
        .that()
        .resideInAPackage("io.edgeslm.inference..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("io.edgeslm.protocol..", "io.edgeslm.signing..")
        .because(
            "the engine runs models; the node agent maps its results to the MQTT payloads and"
                + " checks signatures before a model reaches it (see docs/architecture.md)");
  }

  /**
   * One MQTT implementation: only the shared layer's internals ({@code io.edgeslm.mqtt.internal})
   * use an MQTT client library; the agent, the controller and the test kit go through its API.
   * Brokers are not clients: the demo broker's embedded HiveMQ CE ({@code com.hivemq.embedded}) and
   * the kit's Moquette are outside this rule.
   */
  static ArchRule onlyTheMqttLayerUsesAnMqttClientLibrary() {
    return ArchRuleDefinition.noClasses()
        .that()
        .resideInAPackage("io.edgeslm..")
        .and()
        .resideOutsideOfPackage("io.edgeslm.mqtt.internal..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("com.hivemq.client..", "org.eclipse.paho..")
        .because(
            "every module connects through the one MQTT layer (io.edgeslm.mqtt, ADR 0023), so"
                + " reconnect, resubscribe, the in-flight window and the version fallback exist"
                + " once");
  }

  private static ArchCondition<JavaClass> notReachIntoAnotherModulesInternals() {
    return new ArchCondition<>("not depend on another module's internal packages") {
      @Override
      public void check(JavaClass origin, ConditionEvents events) {
        Optional<String> originModule = moduleOf(origin.getPackageName());
        for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
          JavaClass target = dependency.getTargetClass();
          String targetPackage = target.getPackageName();
          if (!isInternal(targetPackage)) {
            continue;
          }
          Optional<String> targetModule = moduleOf(targetPackage);
          if (targetModule.isPresent() && !targetModule.equals(originModule)) {
            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
          }
        }
      }
    };
  }

  static Optional<String> moduleOf(String packageName) {
    Matcher matcher = MODULE_ROOT.matcher(packageName);
    return matcher.matches() ? Optional.of(matcher.group(1)) : Optional.empty();
  }

  private static boolean isInternal(String packageName) {
    return packageName.endsWith(".internal") || packageName.contains(".internal.");
  }
}
