package io.edgeslm.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.EvaluationResult;
import io.edgeslm.fixturealpha.internal.AlphaSecret;
import io.edgeslm.fixturealpha.internal.AlphaSecretHolder;
import io.edgeslm.fixturebeta.BetaUsesAlphaInternals;
import org.junit.jupiter.api.Test;

class ModuleBoundariesTest {

  @Test
  void productionCode_noModuleReachesIntoAnotherModulesInternals() {
    JavaClasses production =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.edgeslm");

    assertThat(production.size())
        .as("classes imported from io.edgeslm (the rule must see the modules' jars)")
        .isGreaterThan(0);
    ModuleBoundaries.internalPackagesStayInsideTheirModule().check(production);
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
  void moduleOf_takesTheThirdPackageSegment() {
    assertThat(ModuleBoundaries.moduleOf("io.edgeslm.signing.internal.dsse"))
        .contains("io.edgeslm.signing");
    assertThat(ModuleBoundaries.moduleOf("io.edgeslm.agent")).contains("io.edgeslm.agent");
    assertThat(ModuleBoundaries.moduleOf("org.example.internal")).isEmpty();
  }
}
