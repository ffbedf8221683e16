package io.edgeslm.inference;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The worker JVM's class path holds only this module's jar and the llama binding (see {@code
 * WorkerProcess}), so the classes it loads must need nothing else: no Jackson, no protocol module,
 * no schema validator. A violation would surface only at run time as a NoClassDefFoundError in the
 * child, so it is checked here.
 */
class WorkerClasspathArchTest {
  static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.edgeslm.inference");

  static final String[] WORKER_SIDE = {
    "io.edgeslm.inference.internal.worker.WorkerMain",
    "io.edgeslm.inference.internal.worker.Frame",
    "io.edgeslm.inference.internal.worker.Wire",
    "io.edgeslm.inference.ModelSpec",
    "io.edgeslm.inference.GenerationRequest",
    "io.edgeslm.inference.ChatMessage",
    "io.edgeslm.inference.FinishReason"
  };

  @Test
  void workerSideClasses_dependOnlyOnTheJdkTheBindingAndEachOther() {
    ArchRule rule =
        classes()
            .that()
            .haveNameMatching(
                "io\\.edgeslm\\.inference\\.(internal\\.worker\\.(WorkerMain|Frame|Wire)"
                    + "|ModelSpec|GenerationRequest|ChatMessage|FinishReason)(\\$.*)?")
            .should()
            .onlyDependOnClassesThat()
            .haveNameMatching(
                "(\\[.*|[a-z]+|java\\..*|de\\.kherud\\.llama\\..*|io\\.edgeslm\\.inference\\.(internal\\.worker\\."
                    + "(WorkerMain|Frame|Wire)|ModelSpec|GenerationRequest|ChatMessage"
                    + "|FinishReason)(\\$.*)?)");
    rule.check(CLASSES);
  }

  @Test
  void publicApi_neverExposesTheLlamaBinding() {
    ArchRule rule =
        noClasses()
            .that()
            .resideInAPackage("io.edgeslm.inference")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("de.kherud.llama..");
    rule.check(CLASSES);
  }
}
