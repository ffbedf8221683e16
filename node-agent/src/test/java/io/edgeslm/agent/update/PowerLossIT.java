package io.edgeslm.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StorePointer;
import io.edgeslm.agent.internal.update.ChunkDownloader;
import io.edgeslm.agent.internal.update.UsbSideLoader;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.testkit.ChildJvm;
import io.edgeslm.testkit.MqttBroker;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss: the update engine runs in a child JVM ({@link UpdateNodeMain}) and is killed with
 * SIGKILL at random points across download, verify, install, activation and soak. After each kill
 * the on-disk state must name a verified model (old or new), the log of loads may name only
 * verified, installed model directories, the chunks fetched again stay within the in-flight window
 * of the killed run, and no chunk that an earlier run had stored is fetched again. The kills fall
 * at random times, not at chosen states: the summary printed at the end says which states (the
 * journal's last event) they hit and which model was active after each. {@code
 * -Dedgeslm.updates.kills=N} sets the number of kills (8 by default, as in CI; the issue asks for
 * at least 100 outside CI), {@code -Dedgeslm.updates.powerLossMb} the padding of each bundle (two
 * download windows by default) and {@code -Dedgeslm.updates.seed} the random kill times.
 */
class PowerLossIT {

  static final int KILLS = Integer.getInteger("edgeslm.updates.kills", 8);

  /** Journal states of an assignment whose download has not finished ("-": nothing journaled). */
  static final Set<String> DOWNLOADING = Set.of("-", "assigned", "download_started");

  static final long SEED = Long.getLong("edgeslm.updates.seed", 20261121L);

  /**
   * What one kill may cost: the downloader keeps requests in flight plus written-but-unflushed
   * chunks within its window ({@code ChunkDownloader}), so a restart fetches at most this again.
   */
  static final int WINDOW_CHUNKS =
      ChunkDownloader.Tuning.defaults().requestsInFlight()
          * ChunkDownloader.Tuning.defaults().chunksPerRequest();

  /**
   * Each bundle's padding: by default two windows of chunks (64 MiB with 8 requests of 16 chunks of
   * 256 KiB), so that a restart fetching the whole bundle again would break the window bound the
   * kills check; with a bundle smaller than the window that check could not fail.
   */
  static final long PADDING_MB =
      Long.getLong(
          "edgeslm.updates.powerLossMb",
          Math.max(16, (2L * WINDOW_CHUNKS * UpdateAssignment.DEFAULT_CHUNK_BYTES) >> 20));

  static MqttBroker broker;
  @TempDir Path tmp;

  @BeforeAll
  static void broker() throws Exception {
    // A private Mosquitto: a bundle server answers every node's chunk requests on its broker, so
    // on a shared broker another test's server would answer ours with not_found (seen on our
    // shared machine: assignments rejected with not_found while a second run was going on).
    broker = MqttBroker.privateMosquitto();
  }

  @AfterAll
  static void closeBroker() {
    broker.close();
  }

  @Test
  void killAtRandomPoints_alwaysLeavesAVerifiedModel_andResumesWithinTheWindow() throws Exception {
    TestBundles b = new TestBundles();
    Path key = tmp.resolve("release-pub.pem");
    b.writePublicKey(key);
    String nodeId = "gw-" + UUID.randomUUID().toString().substring(0, 8);
    Path data = tmp.resolve("node/data");
    Map<String, Long> versionByDigest = new HashMap<>();

    // v5 is installed first (by side-load, in this JVM); updates to v6.. are then killed.
    Path stick = Files.createDirectories(tmp.resolve("stick"));
    Path v5 = b.bundle(stick.resolve("v5"), TestBundles.Spec.version(5));
    versionByDigest.put(b.ref(v5, 5).digest().substring(7), 5L);
    try (TestNode node =
        new TestNode(
            broker.url(),
            nodeId,
            data,
            b.trust(),
            new RecordingRuntime(),
            MqttUpdateIT.fastSoak())) {
      assertThat(
              new UsbSideLoader(stick, node.engine, node.store, nodeId, Clock.systemUTC(), 60_000)
                  .scan())
          .singleElement()
          .satisfies(o -> assertThat(o.outcome()).isEqualTo("activated"));
    }
    long startNanos = System.nanoTime();
    progress("start: " + KILLS + " kills, seed " + SEED + ", " + PADDING_MB + " MiB padding");
    String loadBefore = loadAverage();
    Map<String, Integer> statesHit = new java.util.TreeMap<>();
    Map<String, Integer> activeAfterKill = new java.util.TreeMap<>();
    Random rnd = new Random(SEED);
    List<String> kills = new ArrayList<>();
    long refetchedTotal = 0;
    List<String> storedButFetchedAgain = new ArrayList<>();
    try (BundleServer server = BundleServer.start(broker.url(), nodeId + "-ctl", Faults.NONE)) {
      long[] version = {6};
      UpdateAssignment current = offerNew(server, b, nodeId, version[0], versionByDigest);
      // Per chunk of the current assignment: sends so far, and the chunks the previous run got.
      Map<String, Long> sentSoFar = new HashMap<>();
      Set<String> previousRun = new HashSet<>();
      String stateAtLastKill = "-";
      for (int k = 0; k < KILLS; k++) {
        Process p = startChild(nodeId, data, key);
        // Every other kill falls in the first 400 ms after the node is ready, where the download
        // runs: at the link's speed a whole 64 MiB bundle takes a few hundred milliseconds, and
        // uniform kills over 2.5 s would rarely test the refetch bound.
        long delay = rnd.nextLong(k % 2 == 0 ? 400 : 2_500);
        Thread.sleep(delay);
        p.destroyForcibly(); // SIGKILL on Linux
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();

        StorePointer ptr = checkInvariants(data, versionByDigest, b.trust());
        // What this run fetched that the killed run before it had fetched already: the chunks in
        // flight or written but not yet persisted at the kill. The window bounds it.
        Map<String, Long> before = new HashMap<>(sentSoFar);
        Set<String> thisRun = sentInRun(server, current, sentSoFar);
        Set<String> killed = previousRun;
        long refetched = thisRun.stream().filter(killed::contains).count();
        // Fetched again although an earlier run (not the killed one) had it: nothing should be,
        // except after a kill between the last chunk and the install (see below).
        long older =
            thisRun.stream()
                .filter(c -> !killed.contains(c) && before.getOrDefault(c, 0L) > 0)
                .count();
        refetchedTotal += refetched;
        String state = lastJournalEvent(data);
        statesHit.merge(state, 1, Integer::sum);
        activeAfterKill.merge(
            (ptr.active() == null ? "-" : "v" + ptr.active().version())
                + (ptr.trial() ? " on trial" : ""),
            1,
            Integer::sum);
        kills.add(
            String.format(
                "kill %2d after %4d ms: %-16s active v%s%s; this run fetched %d chunks, %d of them"
                    + " in flight at the previous kill, %d stored earlier",
                k + 1,
                delay,
                state,
                ptr.active() == null ? "-" : ptr.active().version(),
                ptr.trial() ? " (on trial)" : "",
                thisRun.size(),
                refetched,
                older));
        progress(kills.getLast());
        if (DOWNLOADING.contains(stateAtLastKill)) {
          // The previous kill hit the download: the window bounds what it costs.
          assertThat(refetched)
              .as("chunks fetched again in run %d:%n%s", k + 1, String.join("\n", kills))
              .isLessThanOrEqualTo(WINDOW_CHUNKS);
        }
        long gap = older + (DOWNLOADING.contains(stateAtLastKill) ? 0 : refetched);
        if (gap > 0) {
          storedButFetchedAgain.add(
              String.format(
                  "run %d (previous kill in '%s'): %d chunks", k + 1, stateAtLastKill, gap));
        }
        // The staged transfer stays whole through verification and the install (the store links
        // the files in, staging is discarded after): no chunk an earlier run stored comes again.
        assertThat(gap)
            .as(
                "chunks stored by an earlier run fetched again in run %d:%n%s",
                k + 1, String.join("\n", kills))
            .isZero();
        // A run killed before it fetched anything (e.g. in 'assigned', before the download
        // resumed) leaves the chunks that were in flight at the kill before it still owed: the next
        // run may fetch them again, within the same window. Seen in a 100-kill run: run 10 fetched
        // the 64 chunks in flight at kill 8 after run 9 died at 164 ms.
        if (!thisRun.isEmpty() || !DOWNLOADING.contains(state)) {
          stateAtLastKill = state;
          previousRun = thisRun;
        }
        if (finished(data, current.assignmentId())) {
          // Activated, or rolled back because the kill hit its trial: the controller's next move
          // is a new assignment.
          version[0]++;
          current = offerNew(server, b, nodeId, version[0], versionByDigest);
          sentSoFar.clear();
          previousRun = new HashSet<>();
          stateAtLastKill = "-";
        }
      }
      // A last run without a kill finishes the update.
      Process p = startChild(nodeId, data, key);
      try {
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        StorePointer ptr = readPointer(data);
        while ((ptr.active().version() != version[0] || ptr.trial()) && System.nanoTime() < until) {
          Thread.sleep(200);
          if (finished(data, current.assignmentId()) && ptr.active().version() != version[0]) {
            version[0]++;
            current = offerNew(server, b, nodeId, version[0], versionByDigest);
            sentSoFar.clear();
            previousRun = new HashSet<>();
          }
          ptr = readPointer(data);
        }
        String story =
            String.join("\n", kills)
                + "\nlast journal event: "
                + lastJournalEvent(data)
                + "\nchild log (last 4000 chars):\n"
                + tail(data.toAbsolutePath().getParent().resolve("child.log"), 4000);
        assertThat(ptr.active().version()).as(story).isEqualTo(version[0]);
        assertThat(ptr.trial()).as(story).isFalse();
      } finally {
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      checkInvariants(data, versionByDigest, b.trust());
      Set<String> lastRun = sentInRun(server, current, sentSoFar);
      long lastRefetched = lastRun.stream().filter(previousRun::contains).count();
      refetchedTotal += lastRefetched;
      kills.add("last run (no kill): " + lastRefetched + " chunks in flight at the last kill");
      if (DOWNLOADING.contains(stateAtLastKill)) {
        assertThat(lastRefetched)
            .as("chunks fetched again in the last run")
            .isLessThanOrEqualTo(WINDOW_CHUNKS);
      }
      server.clearAssignment(io.edgeslm.protocol.Topics.node("plant-7", nodeId));
    }
    kills.forEach(System.out::println);
    storedButFetchedAgain.forEach(
        l -> System.out.println("fetched again after the download had finished: " + l));
    System.out.printf(
        "PowerLossIT: %d kills, %d chunks (of 256 KiB) fetched again in total, at most %d per kill"
            + " allowed%n",
        KILLS, refetchedTotal, WINDOW_CHUNKS);
    progress("states hit " + statesHit + "; active after each kill " + activeAfterKill);
    System.out.printf(
        "PowerLossIT summary: %d kills, seed %d, %d MiB padding; states hit (journal's last event at"
            + " the kill) %s; active after each kill %s; chunks fetched again %d in total, stored"
            + " ones fetched again %d runs; wall time %d s; load average before %s, after %s%n",
        KILLS,
        SEED,
        PADDING_MB,
        statesHit,
        activeAfterKill,
        refetchedTotal,
        storedButFetchedAgain.size(),
        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos),
        loadBefore,
        loadAverage());
  }

  /**
   * Appends a kill's line to {@code target/power-loss-progress.log} as it happens: a long run
   * stopped from outside (a shared machine's quiet hour) still leaves its record.
   */
  static void progress(String line) {
    try {
      Files.writeString(
          Path.of("target", "power-loss-progress.log"),
          java.time.Instant.now() + " " + line + System.lineSeparator(),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      // the record at the end still has it
    }
  }

  /** The 1, 5 and 15 minute load averages, for the record of a long run on a shared machine. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** The chunks of {@code a} sent since the last call, updating {@code sentSoFar}. */
  static Set<String> sentInRun(
      BundleServer server, UpdateAssignment a, Map<String, Long> sentSoFar) {
    Set<String> run = new HashSet<>();
    for (var f : a.files()) {
      for (int i = 0; i < f.chunks().size(); i++) {
        String c = f.name() + "#" + i;
        long n = server.timesSent(a.assignmentId(), f.name(), i);
        if (n > sentSoFar.getOrDefault(c, 0L)) {
          run.add(c);
        }
        sentSoFar.put(c, n);
      }
    }
    return run;
  }

  static String tail(Path file, int chars) throws IOException {
    if (!Files.exists(file)) {
      return "(none)";
    }
    String s = Files.readString(file);
    return s.length() <= chars ? s : s.substring(s.length() - chars);
  }

  static boolean finished(Path data, String assignmentId) throws Exception {
    Path f = data.resolve("finished.json");
    return Files.exists(f) && Files.readString(f).contains("\"" + assignmentId + "\"");
  }

  UpdateAssignment offerNew(
      BundleServer server, TestBundles b, String nodeId, long v, Map<String, Long> byDigest)
      throws Exception {
    Path dir =
        b.bundle(
            tmp.resolve("bundles/v" + v), TestBundles.Spec.version(v).padding(PADDING_MB << 20));
    byDigest.put(b.ref(dir, v).digest().substring(7), v);
    return offer(server, b, nodeId, dir, v);
  }

  static UpdateAssignment offer(BundleServer server, TestBundles b, String nodeId, Path dir, long v)
      throws Exception {
    var topics = io.edgeslm.protocol.Topics.node("plant-7", nodeId);
    UpdateAssignment a =
        server.offer(
            "as-" + nodeId + "-v" + v,
            "bundle-" + v,
            b.ref(dir, v),
            dir,
            UpdateAssignment.DEFAULT_CHUNK_BYTES,
            topics);
    server.publishAssignment(topics, a);
    return a;
  }

  static Process startChild(String nodeId, Path data, Path key) throws Exception {
    List<String> cmd =
        ChildJvm.of(UpdateNodeMain.class.getName())
            .args(broker.url(), nodeId, data.toString(), key.toString())
            .command();
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    StringBuilder seen = new StringBuilder();
    while ((line = r.readLine()) != null && !line.equals("ready")) {
      seen.append(line).append('\n');
    }
    if (line == null) {
      throw new AssertionError("The update node exited before it was ready:\n" + seen);
    }
    // The rest of the child's output goes to a log beside its data, quoted when an assertion fails.
    Path log = data.toAbsolutePath().getParent().resolve("child.log");
    Files.writeString(
        log, "---- child started\n" + seen, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    Thread.ofVirtual()
        .start(
            () -> {
              try (var w =
                  Files.newBufferedWriter(
                      log, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                  w.write(l);
                  w.newLine();
                  w.flush();
                }
              } catch (IOException e) {
                // the child was killed: its output ends here
              }
            });
    return p;
  }

  static StorePointer readPointer(Path data) throws Exception {
    Path f = data.resolve("pointer.json");
    return Files.exists(f)
        ? Json.mapper().readValue(Files.readAllBytes(f), StorePointer.class)
        : StorePointer.EMPTY;
  }

  /** The state a restart finds: a verified model is named, and only verified models were loaded. */
  static StorePointer checkInvariants(
      Path data, Map<String, Long> versionByDigest, io.edgeslm.signing.TrustStore trust)
      throws Exception {
    StorePointer ptr = readPointer(data);
    assertThat(ptr.active()).as("a model is always named after v5 was installed").isNotNull();
    Path dir = data.resolve("models").resolve(ptr.active().digest());
    assertThat(dir.resolve(ModelStore.MARKER)).exists();
    assertThat(versionByDigest).containsKey(ptr.active().digest());
    // The named directory verifies now, byte for byte, against the release key.
    BundleVerifier.of(trust)
        .verify(dir, BundleOptions.defaults().withIgnorePaths(List.of(ModelStore.MARKER)));
    // No log yet: the first child was killed before it loaded v5 (its boot re-check was running).
    Path loads = data.getParent().resolve("loads.log");
    for (String line : Files.exists(loads) ? Files.readAllLines(loads) : List.<String>of()) {
      Path loaded = Path.of(line);
      assertThat(loaded.getParent().getParent()).isEqualTo(data.resolve("models").toAbsolutePath());
      assertThat(versionByDigest).containsKey(loaded.getParent().getFileName().toString());
    }
    return ptr;
  }

  static String lastJournalEvent(Path data) throws Exception {
    Path f = data.resolve("journal/journal.jsonl");
    if (!Files.exists(f)) {
      return "-";
    }
    List<String> lines = Files.readAllLines(f);
    for (int i = lines.size() - 1; i >= 0; i--) {
      int at = lines.get(i).indexOf("\"event\":\"");
      if (at >= 0) {
        String rest = lines.get(i).substring(at + 9);
        return rest.substring(0, rest.indexOf('"'));
      }
    }
    return "-";
  }
}
