package io.edgeslm.testkit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import org.junit.jupiter.api.Test;

/**
 * The kit's API is its root package; {@code io.edgeslm.testkit.internal} may change at any time, so
 * no public signature of the root package may mention an internal type. (Checked to fail once by
 * adding a public method returning {@code SyntheticVocabulary}.)
 */
class PublicApiTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.edgeslm.testkit");

  @Test
  void publicSignaturesOfTheRootPackage_neverMentionInternalTypes() {
    codeUnits()
        .that()
        .areDeclaredInClassesThat()
        .resideInAPackage("io.edgeslm.testkit")
        .and()
        .areDeclaredInClassesThat()
        .arePublic()
        .and()
        .arePublic()
        .should(notExposeInternalTypes())
        .check(CLASSES);
  }

  private static ArchCondition<JavaCodeUnit> notExposeInternalTypes() {
    return new ArchCondition<>("not mention io.edgeslm.testkit.internal types") {
      @Override
      public void check(JavaCodeUnit unit, ConditionEvents events) {
        if (unit.getModifiers().contains(JavaModifier.SYNTHETIC)) {
          return;
        }
        check(unit, unit.getRawReturnType(), events);
        for (JavaClass p : unit.getRawParameterTypes()) {
          check(unit, p, events);
        }
      }

      private void check(JavaCodeUnit unit, JavaClass type, ConditionEvents events) {
        JavaClass base = type.isArray() ? type.getBaseComponentType() : type;
        if (base.getPackageName().startsWith("io.edgeslm.testkit.internal")) {
          events.add(
              SimpleConditionEvent.violated(
                  unit, unit.getFullName() + " exposes internal type " + base.getName()));
        }
      }
    };
  }
}
