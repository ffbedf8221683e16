package io.edgeslm.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.system.TourDocument.Block;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Keeps docs/tour.md followable: its command blocks say where they run and what they print, every
 * terminal starts from the one environment file, nothing needs a tool the tour says you need not
 * install, no id is copied by hand, and every script, file and helper it names exists. Reads only
 * the document and the repository; running the blocks is a separate, slower test's job.
 */
class TourDocumentTest {

  /** What a newcomer is told not to need: curl, the Mosquitto clients, npm, a Maven install. */
  private static final Pattern FORBIDDEN_TOOL =
      Pattern.compile("(?<![\\w./-])(curl|mosquitto_[a-z]+|npm|npx|mvn)(?![\\w.-])");

  /** A variable assigned a literal with an ellipsis: an id the reader would have to copy. */
  private static final Pattern HAND_COPIED =
      Pattern.compile("\\b[A-Za-z_][A-Za-z0-9_]*=[^\\s$(]*(\\.\\.\\.|…)");

  /** A word that names a file in the repository: relative, with a directory, no variables. */
  private static final Pattern REPO_PATH =
      Pattern.compile("(?<![\\w$/.{-])(?:\\./)?((?:[a-z0-9][\\w.-]*/)+[\\w.-]+)");

  /** Helpers the environment file defines. */
  private static final Pattern FUNCTION = Pattern.compile("(?m)^([a-z_]+)\\(\\) \\{");

  /** Directories of build outputs and of what the tour writes; they exist only after a step. */
  private static final Set<String> MADE_BY_THE_TOUR = Set.of("target", "tmp");

  static Path repo;
  static List<Block> blocks;
  static String env;

  @BeforeAll
  static void read() throws IOException {
    repo = TourDocument.repository();
    blocks = TourDocument.read(repo);
    env = Files.readString(repo.resolve("docs/tour-env.sh"));
  }

  @Test
  void everyCommandBlock_isFollowedByWhatItPrints_andStepsAreInOrder() {
    assertThat(blocks).hasSizeGreaterThan(10);
    int last = 0;
    for (Block b : blocks) {
      assertThat(b.expect())
          .as(
              "step %d, terminal %s: a command block needs a ```text expect block after it",
              b.step(), b.terminal())
          .isNotNull();
      assertThat(b.step()).as("steps go forward: %s", b).isGreaterThanOrEqualTo(last);
      last = b.step();
    }
    Set<Integer> steps = new TreeSet<>();
    blocks.forEach(b -> steps.add(b.step()));
    assertThat(steps).as("no step without commands").containsExactlyElementsOf(range(last));
  }

  @Test
  void everyTerminal_startsBySourcingTheEnvironmentFile_once() {
    Map<String, Block> first = new LinkedHashMap<>();
    for (Block b : blocks) {
      first.putIfAbsent(b.terminal(), b);
    }
    assertThat(first.keySet())
        .contains("main", "broker", "controller", "gw-line1", "gw-line2", "gw-arm");
    first.forEach(
        (terminal, b) ->
            assertThat(b.command().lines().findFirst().orElse(""))
                .as("terminal %s's first block (step %d) must start with it", terminal, b.step())
                .isEqualTo(". docs/tour-env.sh"));
  }

  @Test
  void noCommand_needsCurlMosquittoClientsNpmOrMaven() {
    List<String> found = new ArrayList<>();
    for (Block b : blocks) {
      commandLines(b.command()).forEach(l -> forbidden(l, "step " + b.step(), found));
    }
    commandLines(env).forEach(l -> forbidden(l, "tour-env.sh", found));
    assertThat(found).as("tools a newcomer was told not to install").isEmpty();
  }

  @Test
  void noIdIsCopiedByHand() {
    for (Block b : blocks) {
      for (String l : commandLines(b.command())) {
        assertThat(HAND_COPIED.matcher(l).find())
            .as(
                "step %d assigns a literal with '...': capture the id from the command: %s",
                b.step(), l)
            .isFalse();
        assertThat(l)
            .as("step %d types an id", b.step())
            .doesNotContainPattern("-v\\d+-[0-9a-f]{12}");
      }
    }
  }

  @Test
  void backgroundAndStopBlocks_runInTheirOwnTerminals_andWaitsLoop() {
    for (Block b : blocks) {
      if (b.flags().contains("background") || b.flags().contains("stop")) {
        assertThat(b.terminal())
            .as("step %d: long-running things stay out of main", b.step())
            .isNotEqualTo("main");
      }
      assertThat(b.flags()).as("step %d flags", b.step()).isSubsetOf(TourDocument.FLAGS);
    }
    assertThat(String.join("\n", blocks.stream().map(Block::command).toList()))
        .as("waits are loops, not 'run it again until'")
        .contains("until ")
        .contains("edgeslm-result.json; do sleep 2; done\ncat ");
  }

  @Test
  void everyScriptFileAndHelperItNames_exists() {
    Set<String> missing = new TreeSet<>();
    List<String> lines = new ArrayList<>();
    blocks.forEach(b -> lines.addAll(commandLines(b.command())));
    lines.addAll(commandLines(env));
    for (String l : lines) {
      if (l.contains("<<")) {
        continue;
      }
      Matcher m = REPO_PATH.matcher(l.replaceAll("\"[^\"]*\"|'[^']*'", " "));
      while (m.find()) {
        String path = m.group(1);
        if (MADE_BY_THE_TOUR.stream()
                .anyMatch(d -> path.startsWith(d + "/") || path.contains("/" + d + "/"))
            || path.contains("*")) {
          continue;
        }
        if (!Files.exists(repo.resolve(path))) {
          missing.add(path + "  (" + l.strip() + ")");
        }
      }
    }
    assertThat(missing).as("paths the tour names that the repository lacks").isEmpty();
    for (String tool :
        List.of(
            "model-signing/model-signing",
            "fleet-controller/fleetctl",
            "mvnw",
            "deploy/k3s/scripts/fleet-pki.sh",
            "scripts/lib/java-home.sh")) {
      assertThat(repo.resolve(tool)).as(tool).exists();
    }
    assertThat(Files.isExecutable(repo.resolve("model-signing/model-signing"))).isTrue();
    assertThat(Files.isExecutable(repo.resolve("fleet-controller/fleetctl"))).isTrue();
    assertThat(env)
        .contains("SIGN=model-signing/model-signing", "FLEETCTL=fleet-controller/fleetctl");

    Set<String> defined = new LinkedHashSet<>();
    FUNCTION.matcher(env).results().forEach(r -> defined.add(r.group(1)));
    assertThat(defined)
        .contains("bundle", "controller", "agent", "ask", "node_model", "rollout_done");
    String prose = String.join("\n", blocks.stream().map(Block::command).toList());
    for (String helper : defined) {
      assertThat(prose)
          .as("the tour uses helper %s", helper)
          .containsPattern("(?m)(^|[ $(])" + helper + " ");
    }
  }

  @Test
  void theMidDownloadRestart_hasABundleBigAndAServerSlowEnough() {
    String all = String.join("\n", blocks.stream().map(Block::command).toList());
    assertThat(all).containsPattern("bundle v2 2 42 \\S+ (\\d+)");
    Matcher pad = Pattern.compile("bundle v2 2 42 \\S+ (\\d+)").matcher(all);
    assertThat(pad.find()).isTrue();
    Matcher rate = Pattern.compile("FLEET_BUNDLES_BYTES_PER_SECOND=(\\d+)").matcher(all);
    assertThat(rate.find()).as("step 7 slows the chunk server").isTrue();
    double seconds = Integer.parseInt(pad.group(1)) * 1048576.0 / Long.parseLong(rate.group(1));
    assertThat(seconds)
        .as("v2's download lasts longer than the tour's 5 s wait before the stop")
        .isGreaterThan(5.0);
    Block restart =
        blocks.stream()
            .filter(
                b ->
                    b.step() == 7
                        && b.terminal().equals("main")
                        && b.command().contains("resumed with"))
            .findFirst()
            .orElseThrow();
    assertThat(restart.expect()).contains("resumed with … bytes held");
  }

  private static void forbidden(String line, String where, List<String> found) {
    Matcher m = FORBIDDEN_TOOL.matcher(line);
    if (m.find()) {
      found.add(where + ": " + m.group(1) + " in: " + line.strip());
    }
  }

  /** The lines of a shell text that run something: comments and blank lines dropped. */
  private static List<String> commandLines(String text) {
    return text.lines()
        .map(l -> l.replaceAll("(^|\\s)#.*$", ""))
        .filter(l -> !l.isBlank())
        .toList();
  }

  private static List<Integer> range(int last) {
    List<Integer> r = new ArrayList<>();
    for (int s = 0; s <= last; s++) {
      r.add(s);
    }
    return r;
  }
}
