package io.edgeslm.system;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.system.TourDocument.Block;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * docs/tour.md, run as written: every command block extracted from the page, in order, each in its
 * terminal (one long-lived bash per terminal, so that what a block defines stays for the next one,
 * as in a real terminal), and what it prints compared with the page's {@code ```text expect} block
 * ({@link ExpectedOutput}). A {@code background} block keeps running once what the page shows has
 * appeared; a {@code stop} block is Ctrl-C (SIGINT to what runs in that terminal). A {@code
 * prebuilt} block (the build of step 0) does not run: the reactor build this test runs in has just
 * packaged the same modules, as the page says. Background blocks that follow each other (the three
 * agents of step 4) start side by side, as a reader starts them in three terminals, and the next
 * block waits until each shows what the page shows.
 *
 * <p>As a newcomer's machine: a fresh HOME and a PATH of base tools, a JDK (as its package installs
 * it), Mosquitto, OpenSSL and PostgreSQL's client tools; no npm, node, Maven, curl or Mosquitto
 * clients. The tour's directory is a private one (EDGESLM_TOUR_DIR, which the page offers) and is
 * shown as /tmp/edgeslm-tour when compared; the database has a private name (EDGESLM_TOUR_DB). The
 * ports are the page's own (8080, 8883, 9100-9121): the test fails at once, naming the port, if one
 * is taken.
 */
class TourIT {

  /** Longest a block may run (its wait loops included) before the test gives up on it. */
  private static final Duration BLOCK_LIMIT = Duration.ofMinutes(4);

  /** The ports the page's commands use. */
  private static final List<Integer> PORTS =
      List.of(8080, 8883, 9100, 9101, 9110, 9111, 9120, 9121);

  /** A Debian or Ubuntu system's base tools, and what the tour says it needs. */
  private static final List<String> TOOLS =
      List.of(
          ("bash sh env cat ls mkdir rm rmdir cp mv ln chmod touch dirname basename "
                  + "readlink realpath pwd sed grep find xargs head tail sort uniq cut tr wc seq "
                  + "uname id date sleep mktemp tee expr test [ printf echo true false awk cksum "
                  + "sha256sum stat tar gzip flock kill ps hostname which od base64 umask mosquitto "
                  + "openssl createdb dropdb psql")
              .split(" "));

  /** What the tour says a newcomer installs; the test fails naming the first one not found. */
  private static final List<String> INSTALLED =
      List.of("mosquitto", "openssl", "createdb", "dropdb");

  @Test
  void theTour_runAsWritten_printsWhatThePageShows() throws Exception {
    Path repo = TourDocument.repository();
    List<Block> blocks = TourDocument.read(repo);
    for (int port : PORTS) {
      assertThat(inUse(port))
          .as("port %d is in use; the tour's commands need it free (stop what listens there)", port)
          .isFalse();
    }
    Path work =
        Files.createDirectories(repo.resolve("system-tests/target/tour-" + UUID.randomUUID()));
    Path tourDir = work.resolve("t");
    String db = "tour_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Map<String, String> env = newcomer(work, tourDir, db);
    Map<String, Terminal> terminals = new LinkedHashMap<>();
    List<String> timeline = new ArrayList<>();
    long t0 = System.nanoTime();
    // Background blocks started one after the other (the three agents) run side by side, as in
    // three terminals; the next block of another kind waits until each shows what the page shows.
    List<Run> starting = new ArrayList<>();
    try {
      for (Block b : blocks) {
        long start = System.nanoTime();
        if (b.flags().contains("prebuilt")) {
          timeline.add(b + ": not run (prebuilt)");
          continue;
        }
        if (!b.background()) {
          for (Run r : starting) {
            r.awaitOutput(tourDir, terminals);
            timeline.add(
                String.format(
                    "%s: ready at %d s",
                    r.block, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)));
          }
          starting.clear();
        }
        Terminal t = terminals.get(b.terminal());
        if (t == null) {
          t = new Terminal(b.terminal(), repo, env, work.resolve("terminals"));
          terminals.put(b.terminal(), t);
        }
        String shown = b.expect() == null ? "" : b.expect();
        ExpectedOutput expect = ExpectedOutput.of(shown);
        if (b.stop()) {
          Run stopped = t.interrupt(b);
          check(b, expect, stopped.outputSinceStop(tourDir), terminals, tourDir, expect::matches);
        } else if (b.background()) {
          starting.add(t.start(b));
        } else {
          Run run = t.start(b);
          int rc = run.awaitExit(BLOCK_LIMIT, b, terminals, tourDir);
          String out = run.output(tourDir);
          check(b, expect, out, terminals, tourDir, expect::matches);
          if (!RECORD) {
            assertThat(rc)
                .as("%s exited %d:%n%s%n%s", b, rc, out, tails(terminals, tourDir))
                .isZero();
          }
        }
        timeline.add(
            String.format(
                "%s: %d s (at %d s)",
                b,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0)));
      }
      for (Run r : starting) {
        r.awaitOutput(tourDir, terminals);
      }
    } finally {
      System.out.println("TourIT timeline:\n  " + String.join("\n  ", timeline));
      Files.writeString(work.resolve("printed.md"), PRINTED.toString());
      for (Terminal t : terminals.values()) {
        t.close();
      }
      dropDatabase(repo, env, db);
    }
  }

  /**
   * With -Dedgeslm.tour.record=true a mismatch does not stop the test: what each block printed is
   * written to {@code system-tests/target/tour-…/printed.md}, to update the page from after a
   * change.
   */
  private static final boolean RECORD = Boolean.getBoolean("edgeslm.tour.record");

  private static final StringBuilder PRINTED = new StringBuilder();

  private static void check(
      Block b,
      ExpectedOutput expect,
      String out,
      Map<String, Terminal> terminals,
      Path tourDir,
      Predicate<String> test) {
    PRINTED
        .append("## ")
        .append(b)
        .append(test.test(out) ? "" : "  MISMATCH")
        .append('\n')
        .append(b.command())
        .append("```text printed\n")
        .append(out)
        .append("```\n\n");
    if (!test.test(out) && !RECORD) {
      throw new AssertionError(
          String.format(
              "%s printed what docs/tour.md does not show (expect line %d is the first it cannot"
                  + " get past).%n--- command%n%s--- the page shows%n%s%n--- it printed%n%s%n%s",
              b,
              expect.firstUnmatchedLine(out),
              b.command(),
              expect,
              out,
              tails(terminals, tourDir)));
    }
  }

  /** The last lines of every terminal, for a failure message. */
  private static String tails(Map<String, Terminal> terminals, Path tourDir) {
    StringBuilder s = new StringBuilder("--- the terminals' last lines");
    for (Terminal t : terminals.values()) {
      String out = t.last == null ? "" : t.last.output(tourDir);
      List<String> lines = out.lines().toList();
      s.append("\n[")
          .append(t.name)
          .append("]\n")
          .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size())));
    }
    return s.toString();
  }

  private static boolean inUse(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** A fresh HOME, a PATH of base tools and the JDK, the tour's directory and database. */
  private static Map<String, String> newcomer(Path work, Path tourDir, String db)
      throws IOException {
    Path home = Files.createDirectories(work.resolve("home"));
    Path bin = Files.createDirectories(work.resolve("bin"));
    for (String tool : TOOLS) {
      for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
        Path p = Path.of(dir, tool);
        if (Files.isExecutable(p) && !Files.exists(bin.resolve(tool))) {
          Files.createSymbolicLink(bin.resolve(tool), p);
        }
      }
    }
    for (String tool : INSTALLED) {
      assertThat(bin.resolve(tool))
          .as(
              "%s is not installed (looked in /usr/bin, /bin, /usr/sbin, /sbin): the tour needs it;"
                  + " ./run-tests installs it on Debian and Ubuntu",
              tool)
          .exists();
    }
    Path jdk = Path.of(System.getProperty("java.home"));
    Files.createSymbolicLink(bin.resolve("java"), jdk.resolve("bin/java"));
    Files.createSymbolicLink(bin.resolve("javac"), jdk.resolve("bin/javac"));
    for (String absent :
        List.of("npm", "node", "mvn", "mosquitto_rr", "mosquitto_pub", "mosquitto_sub", "curl")) {
      assertThat(bin.resolve(absent)).doesNotExist();
    }
    Map<String, String> env = new LinkedHashMap<>();
    env.put("HOME", home.toString());
    env.put("PATH", bin.toString());
    env.put("LANG", "C.UTF-8");
    env.put("EDGESLM_TOUR_DIR", tourDir.toString());
    env.put("EDGESLM_TOUR_DB", db);
    // A terminal is a tty, where C programs flush their output at every line; written to a file
    // it would sit in their buffer (Mosquitto's log would appear only when it exits). coreutils'
    // stdbuf library makes their standard output line-buffered, as on a tty.
    Path stdbuf = Path.of("/usr/libexec/coreutils/libstdbuf.so");
    assertThat(stdbuf).as("coreutils' stdbuf library (package coreutils)").exists();
    env.put("LD_PRELOAD", stdbuf.toString());
    env.put("_STDBUF_O", "L");
    return env;
  }

  private static void dropDatabase(Path repo, Map<String, String> env, String db) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                "bash", "-c", ". docs/tour-env.sh && dropdb --if-exists \"$FLEET_DB\" 2>&1")
            .directory(repo.toFile())
            .redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getInputStream().readAllBytes();
    p.waitFor(60, TimeUnit.SECONDS);
  }

  /** One terminal: a bash that reads the blocks it is given, one after the other. */
  static final class Terminal implements AutoCloseable {
    final String name;
    private final Process bash;
    private final Writer stdin;
    private final Path dir;
    private int count;
    Run last;

    Terminal(String name, Path repo, Map<String, String> env, Path dir) throws IOException {
      this.name = name;
      this.dir = Files.createDirectories(dir);
      ProcessBuilder pb =
          new ProcessBuilder(withDefaultInterrupt("bash", "--noprofile", "--norc", "-s"))
              .directory(repo.toFile())
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve(name + ".shell.log").toFile());
      pb.environment().clear();
      pb.environment().putAll(env);
      bash = pb.start();
      stdin = new OutputStreamWriter(bash.getOutputStream(), StandardCharsets.UTF_8);
    }

    /**
     * The command, started so that Ctrl-C works in it. A process started in the background by a
     * shell without job control (as {@code nohup … &} or a CI runner may start this build) ignores
     * SIGINT and SIGQUIT, every process below it inherits that, and a JVM that finds SIGINT ignored
     * never stops on it: the tour's Ctrl-C steps would wait in vain. A shell cannot undo an ignored
     * signal, so perl (part of every Debian and Ubuntu base system) resets both before it runs the
     * command.
     */
    static List<String> withDefaultInterrupt(String... command) throws IOException {
      boolean ignored =
          (signalsIgnored() & 0b110L) != 0; // bit n-1 is signal n: SIGINT 2, SIGQUIT 3
      if (!ignored) {
        return List.of(command);
      }
      Path perl = Path.of("/usr/bin/perl");
      if (!Files.isExecutable(perl)) {
        throw new AssertionError(
            "this test runs with SIGINT ignored (started in the background?) and /usr/bin/perl,"
                + " which would reset it for the tour's terminals, is missing: run the build from a"
                + " foreground shell or install perl");
      }
      List<String> cmd = new ArrayList<>();
      cmd.add(perl.toString());
      cmd.add("-e");
      cmd.add(
          "$SIG{INT} = $SIG{QUIT} = 'DEFAULT'; exec { $ARGV[0] } @ARGV or die \"exec: $!\\n\";");
      cmd.addAll(List.of(command));
      return cmd;
    }

    /** The mask of signals this process ignores, from /proc (Linux). */
    private static long signalsIgnored() throws IOException {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
        }
      }
      return 0;
    }

    /** Types a block into this terminal; returns at once. */
    Run start(Block b) throws IOException {
      if (last != null && !last.finished()) {
        throw new AssertionError(
            b + ": terminal " + name + " still runs " + last.block + "; stop it first");
      }
      count++;
      Path script = dir.resolve(name + "-" + count + ".sh");
      Path out = dir.resolve(name + "-" + count + ".out");
      Path rc = dir.resolve(name + "-" + count + ".rc");
      Files.writeString(script, b.command());
      Files.writeString(out, "");
      // stdin from /dev/null: what runs must not read the blocks that come after it.
      stdin.write(
          ". '"
              + script
              + "' > '"
              + out
              + "' 2>&1 < /dev/null; echo $? > '"
              + rc
              + ".tmp'; mv '"
              + rc
              + ".tmp' '"
              + rc
              + "'\n");
      stdin.flush();
      last = new Run(b, out, rc);
      return last;
    }

    /** Ctrl-C: SIGINT to what this terminal runs; waits until it has ended. */
    Run interrupt(Block b) throws Exception {
      Run r = last;
      if (r == null || r.finished()) {
        throw new AssertionError(b + ": nothing runs in terminal " + name + " to stop");
      }
      r.stopAt = Files.size(r.out);
      signal("-INT");
      if (!r.awaitExitQuietly(Duration.ofMinutes(2))) {
        throw new AssertionError(
            b + ": " + r.block + " did not stop within 2 minutes of Ctrl-C:\n" + r.output(null));
      }
      return r;
    }

    private void signal(String signal) throws Exception {
      List<String> cmd = new ArrayList<>(List.of("kill", signal));
      bash.toHandle().children().forEach(c -> cmd.add(Long.toString(c.pid())));
      if (cmd.size() > 2) {
        new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor(10, TimeUnit.SECONDS);
      }
    }

    @Override
    public void close() throws Exception {
      if (last != null && !last.finished()) {
        signal("-INT");
        if (!last.awaitExitQuietly(Duration.ofSeconds(60))) {
          bash.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        }
      }
      stdin.close();
      if (!bash.waitFor(10, TimeUnit.SECONDS)) {
        bash.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        bash.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** A block typed into a terminal: its output file and, once it has ended, its exit code. */
  static final class Run {
    final Block block;
    final Path out;
    final Path rc;
    final long startedAt = System.nanoTime();
    long stopAt;

    Run(Block block, Path out, Path rc) {
      this.block = block;
      this.out = out;
      this.rc = rc;
    }

    boolean finished() {
      return Files.exists(rc);
    }

    /** What it printed, with the private tour directory shown as the page shows it. */
    String output(Path tourDir) {
      return shown(read(0), tourDir);
    }

    String outputSinceStop(Path tourDir) {
      return shown(read(stopAt), tourDir);
    }

    private String read(long from) {
      try {
        byte[] all = Files.readAllBytes(out);
        int start = (int) Math.min(from, all.length);
        return new String(all, start, all.length - start, StandardCharsets.UTF_8);
      } catch (IOException e) {
        return "(output unreadable: " + e.getMessage() + ")";
      }
    }

    private static String shown(String text, Path tourDir) {
      return tourDir == null ? text : text.replace(tourDir.toString(), "/tmp/edgeslm-tour");
    }

    int awaitExit(Duration limit, Block b, Map<String, Terminal> terminals, Path tourDir)
        throws Exception {
      if (!awaitExitQuietly(limit)) {
        throw new AssertionError(
            String.format(
                "%s did not finish within %s:%n--- command%n%s--- it printed%n%s%n%s",
                b, limit, b.command(), output(tourDir), tails(terminals, tourDir)));
      }
      return Integer.parseInt(Files.readString(rc).strip());
    }

    boolean awaitExitQuietly(Duration limit) throws InterruptedException {
      long end = System.nanoTime() + limit.toNanos();
      while (!finished()) {
        if (System.nanoTime() > end) {
          return false;
        }
        Thread.sleep(200);
      }
      return true;
    }

    /** For a background block: waits until what the page shows has appeared. */
    void awaitOutput(Path tourDir, Map<String, Terminal> terminals) throws Exception {
      Block b = block;
      ExpectedOutput expect = ExpectedOutput.of(b.expect() == null ? "" : b.expect());
      // Recording, a block whose page is out of date would otherwise hold the run for the limit.
      long end = startedAt + (RECORD ? Duration.ofSeconds(90) : BLOCK_LIMIT).toNanos();
      while (!expect.matchesStartOf(output(tourDir))) {
        if (finished() || System.nanoTime() > end) {
          Thread.sleep(500); // the last lines it printed
          check(b, expect, output(tourDir), terminals, tourDir, expect::matchesStartOf);
          if (RECORD) {
            return;
          }
          throw new AssertionError(
              b + (finished() ? " ended" : " did not get there within " + BLOCK_LIMIT));
        }
        Thread.sleep(250);
      }
      check(b, expect, output(tourDir), terminals, tourDir, expect::matchesStartOf);
    }
  }
}
