package io.edgeslm.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasName;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import io.edgeslm.fixturealpha.internal.AlphaSecret;
import io.edgeslm.fixturealpha.internal.AlphaSecretHolder;
import io.edgeslm.fixturebeta.BetaOpensItsOwnMqttClient;
import io.edgeslm.fixturebeta.BetaUsesAlphaInternals;
import io.edgeslm.fixturegamma.MachineThatOnlyDecides;
import io.edgeslm.fixturegamma.MachineThatTouchesTheWorld;
import io.edgeslm.inference.fixture.EngineThatKnowsOnlyItself;
import io.edgeslm.inference.fixture.EngineThatKnowsTheWire;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ModuleBoundariesTest {
  private static JavaClasses production;

  @BeforeAll
  static void importProductionClasses() {
    // The modules' main classes only: the fixtures below live in test sources.
    production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.edgeslm");
  }

  @Test
  void productionCode_noModuleReachesIntoAnotherModulesInternals() {
    assertThat(production.size())
        .as("classes imported from io.edgeslm (the rule must see the modules' jars)")
        .isGreaterThan(0);
    ModuleBoundaries.internalPackagesStayInsideTheirModule().check(production);
  }

  @Test
  void productionCode_inferenceDependsOnNeitherProtocolNorSigning() {
    assertThat(production.that(inInference()).size())
        .as("inference classes imported (the rule must see the inference jar)")
        .isGreaterThan(0);
    ModuleBoundaries.inferenceKnowsNeitherTheWireNorSigning().check(production);
  }

  @Test
  void wireRule_inferenceClassUsingProtocolAndSigning_isReportedWithBothDependencies() {
    // The fixture sits in io.edgeslm.inference.fixture in this module's test sources and uses a
    // protocol record and a signing exception on purpose: the rule must name both.
    JavaClasses fixture = new ClassFileImporter().importClasses(EngineThatKnowsTheWire.class);

    EvaluationResult result =
        ModuleBoundaries.inferenceKnowsNeitherTheWireNorSigning().evaluate(fixture);

    assertThat(result.hasViolation()).isTrue();
    String details = String.join("\n", result.getFailureReport().getDetails());
    assertThat(details)
        .contains(EngineThatKnowsTheWire.class.getName())
        .contains("io.edgeslm.protocol.ModelRef")
        .contains("io.edgeslm.signing.SigningException");
  }

  @Test
  void wireRule_inferenceClassUsingOnlyInference_isAllowed() {
    JavaClasses fixture = new ClassFileImporter().importClasses(EngineThatKnowsOnlyItself.class);

    assertThat(
            ModuleBoundaries.inferenceKnowsNeitherTheWireNorSigning()
                .evaluate(fixture)
                .hasViolation())
        .isFalse();
  }

  private static DescribedPredicate<JavaClass> inInference() {
    return JavaClass.Predicates.resideInAPackage("io.edgeslm.inference..");
  }

  @Test
  void rule_betaUsingAlphaInternals_isReportedAsViolation() {
    // The fixture modules "fixturealpha" and "fixturebeta" live in this module's test sources. Beta
    // calls into
    // alpha's internal package on purpose: the rule must name that dependency.
    JavaClasses fixture =
        new ClassFileImporter()
            .importClasses(
                AlphaSecret.class, AlphaSecretHolder.class, BetaUsesAlphaInternals.class);

    EvaluationResult result =
        ModuleBoundaries.internalPackagesStayInsideTheirModule().evaluate(fixture);

    assertThat(result.hasViolation()).isTrue();
    assertThat(result.getFailureReport().getDetails())
        .singleElement()
        .asString()
        .contains(BetaUsesAlphaInternals.class.getName())
        .contains(AlphaSecret.class.getName());
  }

  @Test
  void rule_moduleUsingItsOwnInternals_isAllowed() {
    JavaClasses fixture =
        new ClassFileImporter().importClasses(AlphaSecret.class, AlphaSecretHolder.class);

    assertThat(
            ModuleBoundaries.internalPackagesStayInsideTheirModule()
                .evaluate(fixture)
                .hasViolation())
        .isFalse();
  }

  @Test
  void productionCode_onlyTheMqttLayerUsesAnMqttClientLibrary() {
    assertThat(production.that(JavaClass.Predicates.resideInAPackage("io.edgeslm.mqtt.internal..")))
        .as("the layer's classes imported (the rule must see the mqtt jar)")
        .isNotEmpty();
    ModuleBoundaries.onlyTheMqttLayerUsesAnMqttClientLibrary().check(production);
  }

  @Test
  void mqttRule_moduleOpeningItsOwnClient_isReported() {
    JavaClasses fixture = new ClassFileImporter().importClasses(BetaOpensItsOwnMqttClient.class);

    EvaluationResult result =
        ModuleBoundaries.onlyTheMqttLayerUsesAnMqttClientLibrary().evaluate(fixture);

    assertThat(result.hasViolation()).isTrue();
    assertThat(String.join("\n", result.getFailureReport().getDetails()))
        .contains(BetaOpensItsOwnMqttClient.class.getName())
        .contains("com.hivemq.client.mqtt.MqttClient");
  }

  @Test
  void productionCode_theNodesUpdateDecisionsTouchNoFileThreadClockRandomnessOrLogger() {
    // Every class the rule names must be there: a rename must not leave it checking nothing.
    for (String name : ModuleBoundaries.UPDATE_DECISIONS) {
      assertThat(production.contain(name)).as(name + " imported").isTrue();
    }
    assertThat(
            production.that(
                HasName.Predicates.nameStartingWith(
                    "io.edgeslm.agent.internal.update.UpdateMachine$")))
        .as("the machine's nested states, events and effects are checked too")
        .isNotEmpty();
    ModuleBoundaries.updateDecisionsArePure().check(production);
  }

  @Test
  void purityRule_machineReadingTheClockAFileAndRandomness_startingThreadsAndLogging_isReported() {
    JavaClasses fixture = new ClassFileImporter().importClasses(MachineThatTouchesTheWorld.class);

    EvaluationResult result =
        ModuleBoundaries.decisionsArePure(List.of(MachineThatTouchesTheWorld.class.getName()))
            .evaluate(fixture);

    assertThat(result.hasViolation()).isTrue();
    assertThat(String.join("\n", result.getFailureReport().getDetails()))
        .contains(MachineThatTouchesTheWorld.class.getName())
        .contains("java.time.Instant.now()")
        .contains("java.lang.System.nanoTime()")
        .contains("java.nio.file.Files.exists(")
        .contains("java.util.Random.<init>()")
        .contains("java.lang.Thread.<init>(")
        .contains("java.util.concurrent.Executors.newSingleThreadExecutor()")
        .contains("java.util.logging.Logger.info(")
        .contains("java.io.IOException");
  }

  @Test
  void purityRule_machineTakingTimeAsAnArgumentAndPathsAsValues_isAllowed() {
    JavaClasses fixture =
        new ClassFileImporter()
            .importClasses(MachineThatOnlyDecides.class, MachineThatOnlyDecides.Effect.class);

    assertThat(
            ModuleBoundaries.decisionsArePure(List.of(MachineThatOnlyDecides.class.getName()))
                .evaluate(fixture)
                .hasViolation())
        .isFalse();
  }

  @Test
  void moduleOf_takesTheThirdPackageSegment() {
    assertThat(ModuleBoundaries.moduleOf("io.edgeslm.signing.internal.dsse"))
        .contains("io.edgeslm.signing");
    assertThat(ModuleBoundaries.moduleOf("io.edgeslm.agent")).contains("io.edgeslm.agent");
    assertThat(ModuleBoundaries.moduleOf("org.example.internal")).isEmpty();
  }
}
