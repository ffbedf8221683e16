package io.edgeslm.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The build and run commands the documentation and the scripts give work from a fresh clone on a
 * machine whose default {@code java} is older than 21 (JDK 17 on Debian 12):
 *
 * <ul>
 *   <li>a {@code ./mvnw … -pl MODULE} that builds a module made of sibling modules also says {@code
 *       -am}: a fresh clone has the siblings in no local repository, so without it Maven fails to
 *       resolve them (or, worse, uses a stale copy someone installed);
 *   <li>no command in a document's code block runs the {@code java} first on {@code PATH} (which
 *       may be 17): it runs {@code "$JAVA_HOME/bin/java"} or a launcher that finds a Java 21+
 *       (model-signing/model-signing, fleet-controller/fleetctl).
 * </ul>
 *
 * Commands continued with a backslash are read as one line.
 */
class DocCommandsTest {

  private static final String START = "(?:^|[\\s`(])";
  private static final String END = "(?=[\\s`),;]|$)";
  private static final Pattern PROJECTS =
      Pattern.compile(START + "(?:-pl|--projects)[ =]([^\\s`]+)");
  private static final Pattern ALSO_MAKE = Pattern.compile(START + "(?:-am|--also-make)" + END);

  /** Goals that resolve no dependencies, so that -pl alone is enough for them. */
  private static final Pattern NO_DEPENDENCIES =
      Pattern.compile(START + "spotless:(?:apply|check)" + END);

  private static final Pattern PHASE =
      Pattern.compile(
          START + "(?:compile|test-compile|test|package|integration-test|verify|install)" + END);

  private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=\\S*");

  /** Lines joined where one ends in a backslash; each with the number of its first line. */
  private record Logical(int line, String text, boolean inCodeBlock) {}

  private static List<Logical> logicalLines(String text, boolean markdown) {
    List<Logical> out = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    boolean code = false;
    for (int i = 0; i < lines.length; i++) {
      if (markdown && lines[i].strip().startsWith("```")) {
        code = !code;
        continue;
      }
      int first = i;
      StringBuilder b = new StringBuilder(lines[i]);
      while (b.toString().endsWith("\\") && i + 1 < lines.length) {
        b.setLength(b.length() - 1);
        b.append(' ').append(lines[++i].strip());
      }
      out.add(new Logical(first + 1, b.toString(), code));
    }
    return out;
  }

  /**
   * What is wrong with one file's commands: {@code file:line: why: the command}. {@code standAlone}
   * are the modules that need no sibling to build (a name that is no module, such as {@code
   * <module>}, is not one of them).
   */
  static List<String> findings(String file, String text, Set<String> standAlone) {
    boolean markdown = file.endsWith(".md");
    List<String> found = new ArrayList<>();
    for (Logical l : logicalLines(text, markdown)) {
      String t = l.text();
      Matcher pl = PROJECTS.matcher(t);
      boolean resolvesNothing = NO_DEPENDENCIES.matcher(t).find() && !PHASE.matcher(t).find();
      if (t.contains("mvnw") && pl.find() && !ALSO_MAKE.matcher(t).find() && !resolvesNothing) {
        for (String m : pl.group(1).replaceAll("[`'\"();.]", "").split(",")) {
          String module = m.startsWith(":") ? m.substring(1) : m;
          if (!standAlone.contains(module)) {
            found.add(file + ":" + l.line() + ": -pl " + module + " without -am: " + t.strip());
            break;
          }
        }
      }
      if (markdown && l.inCodeBlock() && runsPathJava(t)) {
        found.add(file + ":" + l.line() + ": runs the java on PATH: " + t.strip());
      }
    }
    return found;
  }

  /** True if the command's program (after any VAR=value assignments) is a bare {@code java}. */
  static boolean runsPathJava(String command) {
    for (String word : command.strip().split("\\s+")) {
      if (ASSIGNMENT.matcher(word).matches() || word.equals("env")) {
        continue;
      }
      return word.equals("java");
    }
    return false;
  }

  /** The reactor's modules that depend on no other module of it (so -pl alone builds them). */
  static Set<String> standAloneModules(Path root) throws IOException {
    String parent = Files.readString(root.resolve("pom.xml"));
    Matcher mm = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
    Set<String> standAlone = new LinkedHashSet<>();
    while (mm.find()) {
      String module = mm.group(1).strip();
      String pom = Files.readString(root.resolve(module).resolve("pom.xml"));
      String own = pom.substring(pom.indexOf("</parent>"));
      Matcher self = Pattern.compile("<artifactId>([^<]+)</artifactId>").matcher(own);
      assertThat(self.find()).as(module).isTrue();
      Matcher deps = Pattern.compile("<artifactId>(edgeslm-[^<]+)</artifactId>").matcher(own);
      boolean sibling = false;
      while (deps.find()) {
        sibling |= !deps.group(1).equals(self.group(1));
      }
      if (!sibling) {
        standAlone.add(module);
      }
    }
    return standAlone;
  }

  @Test
  void everyDocumentedAndScriptedCommand_buildsSiblingsWithAm_andRunsNoPathJava() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Set<String> standAlone = standAloneModules(root);
    assertThat(standAlone)
        .as("modules with no sibling dependency")
        .contains("protocol", "mqtt", "model-signing")
        .doesNotContain("testkit", "inference", "node-agent", "fleet-controller", "deploy-tests");
    Process git =
        new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z")
            .redirectErrorStream(true)
            .start();
    String listing = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(git.waitFor()).as(listing).isZero();
    List<String> found = new ArrayList<>();
    int read = 0;
    for (String name : listing.split("\0")) {
      boolean script =
          name.endsWith(".sh")
              || Set.of("run-agent", "run-tests", "bench/run", "fleet-controller/fleetctl")
                  .contains(name);
      if (!(name.endsWith(".md") || script) || !Files.isRegularFile(root.resolve(name))) {
        continue;
      }
      read++;
      found.addAll(
          findings(name, Files.readString(root.resolve(name), StandardCharsets.UTF_8), standAlone));
    }
    assertThat(read).as("documents and scripts read").isGreaterThan(30);
    assertThat(found).as("commands that fail from a fresh clone or on an older java").isEmpty();
  }

  @Test
  void rules_catchTheFirstHourMistakes_andLeaveTheRestAlone() {
    Set<String> standAlone = Set.of("protocol", "mqtt", "model-signing");
    // The fleet controller's old "Run it" block: no -am, and the PATH's java.
    String old =
        """
        ```sh
        export JAVA_HOME=/path/to/jdk-21-or-newer
        ./mvnw -B -pl fleet-controller package -DskipTests
        FLEET_TRUST_KEYS=/path/to/release.pub.pem \\
        FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN=change-me \\
          java -jar fleet-controller/target/quarkus-app/quarkus-run.jar
        ```
        """;
    assertThat(findings("a.md", old, standAlone))
        .hasSize(2)
        .anyMatch(f -> f.startsWith("a.md:3: -pl fleet-controller without -am"))
        .anyMatch(f -> f.startsWith("a.md:4: runs the java on PATH"));
    assertThat(findings("a.md", "Run `./mvnw -B -pl testkit,model-signing package`.", standAlone))
        .hasSize(1);
    assertThat(findings("a.md", "`./mvnw -B -pl <module> verify`", standAlone)).hasSize(1);
    assertThat(findings("b.sh", "./mvnw -B -q -pl node-agent test-compile", standAlone)).hasSize(1);
    assertThat(findings("a.md", "`./mvnw -B -q spotless:apply` (or `-pl <module>`)", standAlone))
        .as("spotless resolves no dependencies")
        .isEmpty();
    assertThat(findings("b.sh", "./mvnw -B -pl node-agent spotless:apply verify", standAlone))
        .hasSize(1);

    String fine =
        """
        ./mvnw -B -pl fleet-controller -am package -DskipTests
        ./mvnw -B -q \\
          -pl testkit,node-agent -am package
        ./mvnw -B -pl model-signing verify
        ./mvnw -B -pl :protocol verify
        ```sh
        "$JAVA_HOME/bin/java" -jar fleet-controller/target/quarkus-app/quarkus-run.jar
        model-signing/model-signing --help
        ```
        The worker starts `java -Xmx64m -jar` (prose, not a command to type).
        """;
    assertThat(findings("a.md", fine, standAlone)).isEmpty();
    // In a script, java-home.sh has put a Java 21+ first on PATH.
    assertThat(findings("b.sh", "java -jar x.jar", standAlone)).isEmpty();
  }
}
