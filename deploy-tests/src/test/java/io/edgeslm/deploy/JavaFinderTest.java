package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK finder (scripts/lib/java-home.sh) as the scripts that use it run it, where the default
 * {@code java} is older than 21 (JDK 17 on Debian 12): {@code model-signing/model-signing} and
 * {@code fleet-controller/fleetctl} (each with {@code --help}, which runs the program on the JDK
 * they picked) and the finder sourced by a script of its own. A stand-in for JDK 17's {@code java}
 * (and {@code javac}) answers the finder's version query as Java 17 and refuses to run anything
 * else. With it first on PATH, or named by JAVA_HOME, each script picks the newest Java 21+ under
 * {@code /usr/lib/jvm}, where the scripts look by default, and says which; where there is none
 * (EDGESLM_JAVA_SEARCH names a directory holding only the stand-in), each exits 1 with the install
 * hint in one sentence. PATH holds nothing else but the base tools the scripts use.
 */
class JavaFinderTest {

  private static final Path JVM_DIR = Path.of("/usr/lib/jvm");
  private static final String TAIL =
      " (the default java is missing or older than 21; set JAVA_HOME to choose another).";

  @TempDir Path tmp;
  private Path tools;
  private Path oldJdk;

  /** One of the scripts: how to run it, what its messages start with, and what it needs. */
  private record Script(String who, boolean needsJavac, List<String> command) {}

  private record Result(int exit, String out, List<String> err) {}

  private List<Script> scripts() {
    Path root = Repo.root();
    assertThat(root.resolve("model-signing/target/model-signing.jar"))
        .as("a reactor build packages the signing CLI before deploy-tests")
        .isRegularFile();
    assertThat(root.resolve("fleet-controller/target/quarkus-app/lib/main"))
        .as("a reactor build packages the fleet controller before deploy-tests")
        .isDirectory();
    return List.of(
        new Script(
            "model-signing",
            false,
            List.of(root.resolve("model-signing/model-signing").toString(), "--help")),
        new Script(
            "fleetctl",
            false,
            List.of(root.resolve("fleet-controller/fleetctl").toString(), "--help")),
        // A script of one's own that sources the finder (it needs a JDK, javac included, unless
        // it says otherwise), then runs the java it leaves first on PATH.
        new Script(
            "my-script",
            true,
            List.of(
                "bash",
                "-c",
                ". \"$1\" && printf '%s\\n' \"$JAVA_HOME\" && java -version 2>&1 | head -n 1",
                "my-script",
                root.resolve("scripts/lib/java-home.sh").toString())));
  }

  @BeforeEach
  void oldJdkAndBaseTools() throws IOException {
    tools = Files.createDirectories(tmp.resolve("bin"));
    for (String tool :
        List.of("bash", "sh", "env", "sed", "head", "dirname", "basename", "readlink", "cat")) {
      for (String dir : List.of("/usr/bin", "/bin")) {
        Path p = Path.of(dir, tool);
        if (Files.isExecutable(p) && !Files.exists(tools.resolve(tool))) {
          Files.createSymbolicLink(tools.resolve(tool), p);
        }
      }
      assertThat(tools.resolve(tool)).as("base tool %s", tool).exists();
    }
    assertThat(tools.resolve("java")).doesNotExist();
    // A JDK 17 stand-in, in a JVM directory of its own.
    oldJdk = Files.createDirectories(tmp.resolve("jvm/jdk-17/bin"));
    String stub =
        """
        #!/bin/sh
        # A stand-in for JDK 17: answers the version query as Java 17 does, runs nothing else.
        if [ "$1" = -XshowSettings:properties ]; then
          printf '%s\\n' 'Property settings:' '    java.specification.version = 17' \\
            '    java.version = 17.0.13' '' 'openjdk version "17.0.13" 2024-10-15' >&2
          exit 0
        fi
        echo "the Java 17 stand-in was asked to run: $*" >&2
        exit 97
        """;
    for (String tool : List.of("java", "javac")) {
      Path p = Files.writeString(oldJdk.resolve(tool), stub);
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    oldJdk = oldJdk.getParent();
  }

  private Result run(Script s, Map<String, String> env) throws Exception {
    Path out = tmp.resolve("out"), err = tmp.resolve("err");
    ProcessBuilder pb =
        new ProcessBuilder(s.command())
            .directory(tmp.toFile())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    pb.environment().clear();
    pb.environment().put("HOME", tmp.toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(s.who() + " hung");
    }
    return new Result(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readAllLines(err, StandardCharsets.UTF_8));
  }

  /** The Java feature version a Java home's {@code release} file names, if it has one. */
  private static Optional<Integer> feature(Path home) {
    try {
      for (String line : Files.readAllLines(home.resolve("release"))) {
        Matcher m = Pattern.compile("^JAVA_VERSION=\"(?:1\\.)?([0-9]+)").matcher(line);
        if (m.find()) {
          return Optional.of(Integer.parseInt(m.group(1)));
        }
      }
    } catch (IOException e) {
      // no release file: not a JDK this test can name
    }
    return Optional.empty();
  }

  /**
   * The Java homes under /usr/lib/jvm a script needing {@code javac} or not should pick: the ones
   * of the newest feature version (several names may lead to the same JDK), and that version.
   */
  private static Map.Entry<Integer, Set<String>> newestUnderJvmDir(boolean needsJavac)
      throws IOException {
    int best = 0;
    Set<String> homes = new TreeSet<>();
    try (Stream<Path> dirs = Files.list(JVM_DIR)) {
      for (Path d : dirs.filter(Files::isDirectory).toList()) {
        if (!Files.isExecutable(d.resolve("bin/java"))
            || (needsJavac && !Files.isExecutable(d.resolve("bin/javac")))) {
          continue;
        }
        int f = feature(d).orElse(0);
        if (f > best) {
          best = f;
          homes.clear();
        }
        if (f == best) {
          homes.add(d.toString());
        }
      }
    }
    assertThat(best)
        .as(
            "this test needs a JDK 21 or newer under %s, where the scripts look (the build's"
                + " machines have one there)",
            JVM_DIR)
        .isGreaterThanOrEqualTo(21);
    return Map.entry(best, homes);
  }

  /** Asserts that {@code r} ran on the newest JDK under /usr/lib/jvm, saying which in one line. */
  private static void ranOnTheNewestJdk(Script s, Result r, List<String> before)
      throws IOException {
    var newest = newestUnderJvmDir(s.needsJavac());
    assertThat(r.exit()).as(s.who() + ": " + r.err()).isZero();
    assertThat(r.err()).hasSize(before.size() + 1);
    assertThat(r.err().subList(0, before.size())).isEqualTo(before);
    String said = r.err().getLast();
    Matcher m =
        Pattern.compile("^" + Pattern.quote(s.who()) + ": using Java ([0-9]+) at (\\S+)(.*)$")
            .matcher(said);
    assertThat(m.matches()).as(said).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as(said).isEqualTo(newest.getKey());
    assertThat(newest.getValue()).as(said).contains(m.group(2));
    assertThat(m.group(3)).isEqualTo(TAIL);
    String home = m.group(2);
    switch (s.who()) {
      case "my-script" -> {
        List<String> out = r.out().lines().toList();
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isEqualTo(home);
        // The finder put that JDK's bin/ first on PATH: `java` is no longer the stand-in.
        assertThat(out.get(1)).contains("version \"" + newest.getKey());
      }
      default ->
          // --help ran on that JDK (the stand-in would have exited 97): the program's usage.
          assertThat(r.out()).startsWith("Usage: " + s.who());
    }
  }

  private Map<String, String> env(String... kv) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      env.put(kv[i], kv[i + 1]);
    }
    return env;
  }

  @Test
  void java17FirstOnPath_eachScriptPicksTheNewestJdkUnderTheJvmDirectory_andSaysWhich()
      throws Exception {
    String path = oldJdk.resolve("bin") + ":" + tools;
    for (Script s : scripts()) {
      ranOnTheNewestJdk(s, run(s, env("PATH", path)), List.of());
    }
  }

  @Test
  void javaHomeAJava17_eachScriptSaysSo_thenPicksTheNewestJdkUnderTheJvmDirectory()
      throws Exception {
    // As set up by hand: JAVA_HOME, and its bin/ first on PATH.
    String path = oldJdk.resolve("bin") + ":" + tools;
    for (Script s : scripts()) {
      String what = s.needsJavac() ? "JDK 21 or newer (with javac)" : "Java 21 or newer";
      ranOnTheNewestJdk(
          s,
          run(s, env("PATH", path, "JAVA_HOME", oldJdk.toString())),
          List.of(
              s.who()
                  + ": JAVA_HOME="
                  + oldJdk
                  + " is not a "
                  + what
                  + " (Java 17); looking for another."));
    }
  }

  @Test
  void noJava21Anywhere_eachScriptExits1_withTheInstallHintInOneSentence() throws Exception {
    Path search = oldJdk.getParent(); // holds the stand-in and nothing else
    Files.createDirectories(search.resolve("not-a-jdk"));
    List<Map<String, String>> setups =
        List.of(
            env("PATH", oldJdk.resolve("bin") + ":" + tools),
            env("PATH", tools.toString()),
            env("PATH", tools.toString(), "JAVA_HOME", oldJdk.toString()));
    for (Script s : scripts()) {
      String what = s.needsJavac() ? "JDK 21 or newer (with javac)" : "Java 21 or newer";
      String hint =
          s.who()
              + ": EdgeSLM needs a "
              + what
              + " and found none in JAVA_HOME, on PATH or under "
              + search
              + "; install one (docs/deployment.md, \"Java\", has the line for your"
              + " distribution) or set JAVA_HOME to it.";
      for (Map<String, String> setup : setups) {
        Map<String, String> env = new HashMap<>(setup);
        env.put("EDGESLM_JAVA_SEARCH", search.toString());
        Result r = run(s, env);
        List<String> expected = new ArrayList<>();
        if (env.containsKey("JAVA_HOME")) {
          expected.add(
              s.who()
                  + ": JAVA_HOME="
                  + oldJdk
                  + " is not a "
                  + what
                  + " (Java 17); looking for another.");
        }
        expected.add(hint);
        assertThat(r.exit()).as(s.who() + " " + setup + ": " + r.err()).isEqualTo(1);
        assertThat(r.err()).as(s.who() + " " + setup).containsExactlyElementsOf(expected);
        assertThat(r.out()).isEmpty();
      }
    }
  }

  @Test
  void searchDirectories_areSearchedInTurn_andTheNewestJdkInAnyOfThemWins() throws Exception {
    // EDGESLM_JAVA_SEARCH with two directories: the old JDK's, then the JVM directory.
    String search = oldJdk.getParent() + ":" + JVM_DIR;
    String path = oldJdk.resolve("bin") + ":" + tools;
    for (Script s : scripts()) {
      ranOnTheNewestJdk(s, run(s, env("PATH", path, "EDGESLM_JAVA_SEARCH", search)), List.of());
    }
  }
}
