package io.edgeslm.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The module boundary rules. Code under {@code io.edgeslm.<module>.internal} is reachable only from
 * {@code io.edgeslm.<module>} itself; a module's public API is its root package and any package not
 * named {@code internal}. And the engine does not know the wire: {@code io.edgeslm.inference} runs
 * models and knows neither the MQTT payloads ({@code io.edgeslm.protocol}) nor model signing
 * ({@code io.edgeslm.signing}); the agent translates between them. And the node's update decisions
 * are pure: {@link #UPDATE_DECISIONS} touch no file, thread, clock, randomness or logger.
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

  /**
   * The node's update decisions: {@code UpdateMachine} (with its nested states, events and effects)
   * and the classes it decides with. {@code TrustStore} is not listed: the machine only reads it as
   * a value, but its {@code load} and {@code rotate} read files. {@code BundleGate} (the shell's
   * verifier) is not listed either: the machine uses its {@code Passed} record and its pure {@code
   * reasonCode} mapping, while the class itself reads bundles from disk.
   */
  static final List<String> UPDATE_DECISIONS =
      List.of(
          "io.edgeslm.agent.internal.update.UpdateMachine",
          "io.edgeslm.agent.internal.update.SoakJudge",
          "io.edgeslm.agent.internal.update.NodeProfile",
          "io.edgeslm.agent.internal.update.UpdateSettings",
          "io.edgeslm.agent.internal.store.StorePointer",
          "io.edgeslm.agent.internal.store.StoredModel",
          "io.edgeslm.signing.ReleasePolicy",
          "io.edgeslm.signing.HighWaterMark",
          "io.edgeslm.signing.ReleaseTrack",
          "io.edgeslm.signing.NodeFacts");

  /** The node's update decisions are pure (see {@link #decisionsArePure}). */
  static ArchRule updateDecisionsArePure() {
    return decisionsArePure(UPDATE_DECISIONS);
  }

  /**
   * The named classes (and the classes nested in them) use no file or network I/O ({@code java.io},
   * {@code java.nio.file.Files}, channels, sockets), no thread or executor ({@code Thread}, {@code
   * java.util.concurrent}), no clock ({@code System}, {@code Clock}, {@code InstantSource}, any
   * {@code java.time} {@code now()}), no randomness ({@code Random}, {@code SecureRandom}, {@code
   * Math.random}, {@code UUID.randomUUID}) and no logger: time and every outcome come in as
   * arguments, and what to do goes out as values, so the tests can drive them with a manual clock.
   */
  static ArchRule decisionsArePure(Collection<String> classNames) {
    List<String> names = List.copyOf(classNames);
    DescribedPredicate<JavaClass> decisions =
        DescribedPredicate.describe(
            "are update decisions " + names,
            c ->
                names.stream()
                    .anyMatch(n -> c.getName().equals(n) || c.getName().startsWith(n + "$")));
    return ArchRuleDefinition.classes()
        .that(decisions)
        .should(touchNoFileThreadClockRandomnessOrLogger())
        .because(
            "the node's update core is a pure step function; the UpdateEngine shell runs its"
                + " effects (see docs/updates.md, Pure core, thin shell)");
  }

  private static final List<String> IMPURE_PACKAGES =
      List.of(
          "java.io",
          "java.nio.channels",
          "java.net",
          "java.util.concurrent",
          "java.util.logging",
          "java.util.random",
          "org.slf4j",
          "org.jboss.logging",
          "org.apache.logging",
          "io.quarkus.logging");

  private static final List<String> IMPURE_CLASSES =
      List.of(
          "java.nio.file.Files",
          "java.nio.file.FileSystems",
          "java.lang.Thread",
          "java.lang.ThreadLocal",
          "java.lang.System",
          "java.lang.Runtime",
          "java.lang.ProcessBuilder",
          "java.time.Clock",
          "java.time.InstantSource",
          "java.util.Random",
          "java.util.SplittableRandom",
          "java.security.SecureRandom");

  static boolean impure(JavaClass target) {
    String name = target.getName();
    String pkg = target.getPackageName();
    return IMPURE_PACKAGES.stream().anyMatch(p -> pkg.equals(p) || pkg.startsWith(p + "."))
        || IMPURE_CLASSES.stream().anyMatch(c -> name.equals(c) || name.startsWith(c + "$"));
  }

  /** A call that reads the clock or draws randomness through a class that is otherwise a value. */
  static boolean impure(JavaMethodCall call) {
    String owner = call.getTargetOwner().getName();
    String method = call.getName();
    return (owner.startsWith("java.time.") && method.equals("now"))
        || ((owner.equals("java.lang.Math") || owner.equals("java.lang.StrictMath"))
            && method.equals("random"))
        || (owner.equals("java.util.UUID") && method.equals("randomUUID"));
  }

  private static ArchCondition<JavaClass> touchNoFileThreadClockRandomnessOrLogger() {
    return new ArchCondition<>("use no file, thread, executor, clock, randomness or logger") {
      @Override
      public void check(JavaClass origin, ConditionEvents events) {
        for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
          if (impure(dependency.getTargetClass())) {
            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
          }
        }
        for (JavaMethodCall call : origin.getMethodCallsFromSelf()) {
          if (impure(call)) {
            events.add(SimpleConditionEvent.violated(call, call.getDescription()));
          }
        }
      }
    };
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
