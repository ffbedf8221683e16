package io.edgeslm.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's two commands as a newcomer types them, on a machine that has only a JDK: a fresh
 * clone of this repository (its HEAD plus uncommitted changes to tracked files), a fresh HOME, and
 * a PATH of nothing but a JDK and the base tools of a Debian or Ubuntu system (bash, coreutils,
 * sed, grep, find, tar, gzip, util-linux's flock, git): no npm, node, Maven, mosquitto clients,
 * curl, wget or unzip. The Maven Wrapper downloads Maven itself (with its Java downloader, as there
 * is no curl or wget) from Maven Central into the fresh HOME; only the local repository of this
 * build is lent to the clone (MAVEN_OPTS=-Dmaven.repo.local=…), so that the test does not download
 * every dependency again. The commands are read from the README, so the README cannot drift from
 * what the test runs.
 */
class FreshCloneRunIT {

  private static final String QUESTION = "What is the oil temperature of press 3?";

  /** Tools a fresh Debian 12 or Ubuntu 24.04 has (and git, to clone): the only ones on PATH. */
  private static final List<String> BASE_TOOLS =
      List.of(
          "bash",
          "sh",
          "env",
          "cat",
          "ls",
          "mkdir",
          "rm",
          "rmdir",
          "cp",
          "mv",
          "ln",
          "chmod",
          "touch",
          "dirname",
          "basename",
          "readlink",
          "realpath",
          "pwd",
          "sed",
          "grep",
          "find",
          "xargs",
          "head",
          "tail",
          "sort",
          "uniq",
          "cut",
          "tr",
          "wc",
          "seq",
          "uname",
          "id",
          "date",
          "sleep",
          "mktemp",
          "tee",
          "expr",
          "test",
          "[",
          "printf",
          "echo",
          "true",
          "false",
          "cksum",
          "sha256sum",
          "stat",
          "tar",
          "gzip",
          "flock",
          "kill",
          "ps",
          "git",
          "hostname",
          "which");

  @TempDir Path tmp;

  @Test
  void readmesRunAndAskCommands_workInAFreshCloneWithOnlyAJdk() throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    String readme = Files.readString(repo.resolve("README.md"));
    List<String> blocks = bashBlocks(section(readme, "## Two commands"));
    String run = blocks.get(0);
    String ask = blocks.get(1);
    assertThat(run).isEqualTo("./run-agent");
    assertThat(ask).isEqualTo("./run-agent ask \"" + QUESTION + "\"");

    Path clone = freshClone(repo);
    Path home = Files.createDirectories(tmp.resolve("home"));
    Map<String, String> env = minimalEnvironment(home);
    Path runInfo = home.resolve(".edgeslm/agent/run-info.properties");

    // --help prints the usage and starts nothing (it used to start a second agent).
    Result help = bash(clone, env, "./run-agent --help", 60);
    assertThat(help.code()).as(help.out()).isZero();
    assertThat(help.out()).startsWith("Usage: ./run-agent [--no-build]\n");
    assertThat(clone.resolve("node-agent/target")).doesNotExist();
    assertThat(runInfo).doesNotExist();

    Path agentLog = tmp.resolve("agent.log");
    Process agent =
        start(clone, env, run).redirectErrorStream(true).redirectOutput(agentLog.toFile()).start();
    try {
      long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
      while (!Files.readString(agentLog).contains("is running ====")) {
        assertThat(agent.isAlive()).as(Files.readString(agentLog)).isTrue();
        assertThat(System.nanoTime()).as("the agent did not start in 20 minutes").isLessThan(end);
        Thread.sleep(500);
      }
      String banner = Files.readString(agentLog);
      assertThat(banner).doesNotContain("npm").doesNotContain("Exception");

      // The banner's mosquitto_rr line names the port the agent's broker really has.
      String broker = property(runInfo, "broker");
      Matcher port =
          Pattern.compile("mosquitto_rr -V mqttv5 -h 127.0.0.1 -p (\\d+) ").matcher(banner);
      assertThat(port.find()).as(banner).isTrue();
      assertThat(broker).isEqualTo("tcp://127.0.0.1:" + port.group(1));

      Result answer = bash(clone, env, ask, 120);
      assertThat(answer.code()).as(answer.out()).isZero();
      assertThat(answer.out())
          .startsWith("Press 3 oil temperature is")
          .contains(" °C, normal 40–80")
          .contains("\n\n  source: rules\n");

      // Usage errors: one sentence, exit code 2, nothing sent.
      Result blank = bash(clone, env, "./run-agent ask \"\"", 60);
      assertThat(blank.code()).isEqualTo(2);
      assertThat(blank.out())
          .isEqualTo(
              "run-agent ask: the question is empty; ask for example: ./run-agent ask \""
                  + QUESTION
                  + "\"\n");
      Result timeout = bash(clone, env, "./run-agent ask --timeout soon \"" + QUESTION + "\"", 60);
      assertThat(timeout.code()).isEqualTo(2);
      assertThat(timeout.out())
          .isEqualTo(
              "run-agent ask: --timeout must be a whole number of seconds from 1 to 3600, got"
                  + " 'soon'.\n");
      Result askHelp = bash(clone, env, "./run-agent ask --help", 60);
      assertThat(askHelp.code()).isZero();
      assertThat(askHelp.out()).startsWith("Usage: ./run-agent ask [--timeout SECONDS] [--json]");

      // A second ./run-agent on the same state refuses instead of taking over its run-info file.
      String info = Files.readString(runInfo);
      Result second = bash(clone, env, run, 120);
      assertThat(second.code()).isEqualTo(1);
      assertThat(second.out())
          .contains(
              "run-agent: an agent started from "
                  + home.resolve(".edgeslm/agent")
                  + " already runs (pid "
                  + property(runInfo, "pid")
                  + ", broker "
                  + broker
                  + "); ask it with ./run-agent ask, stop it first, or set EDGESLM_HOME to another"
                  + " directory to run a second one.");
      assertThat(Files.readString(runInfo)).isEqualTo(info);
    } finally {
      agent.destroy(); // run-agent exec()s the JVM: this is Ctrl-C's SIGTERM
      if (!agent.waitFor(120, TimeUnit.SECONDS)) {
        agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    assertThat(agent.exitValue()).as(Files.readString(agentLog)).isEqualTo(143);
    assertThat(Files.readString(agentLog)).doesNotContain("valid AOT configuration");
    // A stopped agent leaves no run-info behind, so ask says so instead of asking the dead one.
    assertThat(runInfo).doesNotExist();
    Result after = bash(clone, env, ask, 60);
    assertThat(after.code()).isEqualTo(3);
    assertThat(after.out())
        .isEqualTo(
            "run-agent ask: no running agent found (no live agent in "
                + runInfo
                + "); start one with ./run-agent.\n");
  }

  private Path freshClone(Path repo) throws Exception {
    // The working tree's tracked changes as a commit object (nothing in the repository changes).
    String snapshot = git(repo, "stash", "create").strip();
    if (snapshot.isEmpty()) {
      snapshot = git(repo, "rev-parse", "HEAD").strip();
    }
    Path clone = tmp.resolve("edgeslm");
    git(repo, "clone", "--quiet", "--shared", "--no-checkout", repo.toString(), clone.toString());
    git(clone, "checkout", "--quiet", "--detach", snapshot);
    return clone;
  }

  private Map<String, String> minimalEnvironment(Path home) throws IOException {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    for (String tool : BASE_TOOLS) {
      for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
        Path p = Path.of(dir, tool);
        if (Files.isExecutable(p) && !Files.exists(bin.resolve(tool))) {
          Files.createSymbolicLink(bin.resolve(tool), p);
        }
      }
    }
    // The JDK as a distribution package installs it: java and javac on PATH, as links.
    Path jdk = Path.of(System.getProperty("java.home"));
    Files.createSymbolicLink(bin.resolve("java"), jdk.resolve("bin/java"));
    Files.createSymbolicLink(bin.resolve("javac"), jdk.resolve("bin/javac"));
    for (String absent :
        List.of("npm", "node", "mvn", "mosquitto_rr", "mosquitto", "curl", "wget")) {
      assertThat(bin.resolve(absent)).doesNotExist();
    }
    String repoLocal =
        System.getProperty(
            "edgeslm.maven.repo.local", System.getProperty("user.home") + "/.m2/repository");
    return Map.of(
        "HOME",
        home.toString(),
        "PATH",
        bin.toString(),
        // No LANG: a fresh container or ssh session often has none, and answers must still read
        // "°C", not "?C".
        "MAVEN_OPTS",
        "-Dmaven.repo.local=" + repoLocal);
  }

  private static ProcessBuilder start(Path dir, Map<String, String> env, String command) {
    ProcessBuilder pb =
        new ProcessBuilder("/bin/bash", "-c", "exec " + command).directory(dir.toFile());
    pb.environment().clear();
    pb.environment().putAll(env);
    return pb;
  }

  record Result(int code, String out) {}

  private static Result bash(Path dir, Map<String, String> env, String command, int seconds)
      throws Exception {
    Process p = start(dir, env, command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " did not finish in " + seconds + " s");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  private static String git(Path dir, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git", "-C", dir.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("git %s: %s", String.join(" ", args), out).isZero();
    return out;
  }

  private static String property(Path file, String key) throws IOException {
    var props = new java.util.Properties();
    try (var in = Files.newInputStream(file)) {
      props.load(in);
    }
    return props.getProperty(key);
  }

  /** The text of a README section, from its heading to the next heading of the same level. */
  static String section(String markdown, String heading) {
    int start = markdown.indexOf("\n" + heading + "\n");
    assertThat(start).as("README has a section %s", heading).isNotNegative();
    int end = markdown.indexOf("\n## ", start + heading.length() + 1);
    return markdown.substring(start, end < 0 ? markdown.length() : end);
  }

  /** The contents of the ```bash blocks in a text, in order. */
  static List<String> bashBlocks(String text) {
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("```bash\n(.*?)\n```", Pattern.DOTALL).matcher(text);
    while (m.find()) {
      blocks.add(m.group(1).strip());
    }
    return blocks;
  }
}
