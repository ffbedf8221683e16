package io.edgeslm.signing;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.methods;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethod;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The module's layout rules: the root package is the public API and never exposes internal or
 * third-party crypto/JSON types in its signatures; internal code does not depend on the CLI.
 */
class ArchitectureTest {
  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.edgeslm.signing");

  private static final String[] HIDDEN = {
    "io.edgeslm.signing.internal", "org.bouncycastle", "com.fasterxml", "picocli"
  };

  private static boolean hidden(JavaClass c) {
    for (String prefix : HIDDEN) {
      if (c.getPackageName().startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  @Test
  void publicApi_doesNotExposeInternalOrLibraryTypes() {
    ArchCondition<JavaMethod> onlyApiTypes =
        new ArchCondition<>("use only API or JDK types in their signatures") {
          @Override
          public void check(JavaMethod m, ConditionEvents events) {
            List<JavaClass> types = new ArrayList<>(m.getRawParameterTypes());
            types.add(m.getRawReturnType());
            for (JavaClass t : types) {
              if (hidden(t)) {
                events.add(
                    SimpleConditionEvent.violated(
                        m, m.getFullName() + " exposes " + t.getName() + " in the public API"));
              }
            }
          }
        };
    methods()
        .that()
        .arePublic()
        .and()
        .areDeclaredInClassesThat()
        .resideInAPackage("io.edgeslm.signing")
        .and()
        .areDeclaredInClassesThat()
        .arePublic()
        .should(onlyApiTypes)
        .check(CLASSES);
  }

  @Test
  void onlyTheCliUsesPicocli_andNothingDependsOnTheCli() {
    noClasses()
        .that()
        .resideOutsideOfPackage("..internal.cli..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("picocli..", "..internal.cli..")
        .check(CLASSES);
  }

  @Test
  void exceptions_areCheckedAndLiveInTheApiPackage() {
    classes()
        .that()
        .areAssignableTo(SigningException.class)
        .should()
        .resideInAPackage("io.edgeslm.signing")
        .check(CLASSES);
  }
}
