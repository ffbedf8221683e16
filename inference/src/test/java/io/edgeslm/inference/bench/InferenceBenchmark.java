package io.edgeslm.inference.bench;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.LogLevel;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.Priority;
import io.edgeslm.inference.Scheduler;
import io.edgeslm.inference.SchedulerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time to first token and generation speed through the scheduler and the worker process, against
 * the binding used directly in this JVM, in the same run on the same model, plus the memory
 * bandwidth ceiling. Run it with bench/inference/run.sh (see docs/benchmarks.md).
 *
 * <p>Both paths get the same prompt, greedy sampling and seed, so they generate the same tokens.
 * Rounds alternate which path goes first (ABBA) so that drift on a shared machine hits both.
 */
public final class InferenceBenchmark {
  private InferenceBenchmark() {}

  /**
   * One run: time to first token; decode speed between first and last token; end-to-end speed
   * (tokens over the whole request time), which is robust to tokens arriving in bursts when the
   * machine is busy.
   */
  record Sample(
      double ttftMs, double tokensPerSecond, double endToEndTokensPerSecond, int tokens) {}

  private static int calls;

  /** A prompt no earlier call used, so neither side answers from its prompt cache. */
  static String freshPrompt(String base) {
    return "Request " + (++calls) + ". " + base;
  }

  public static void main(String[] args) throws Exception {
    Path model = null;
    int threads = 2;
    int rounds = 10;
    int nPredict = 64;
    String only = "both";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--model" -> model = Path.of(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--n-predict" -> nPredict = Integer.parseInt(args[++i]);
        case "--only" -> only = args[++i];
        default -> throw new IllegalArgumentException("Unknown argument " + args[i]);
      }
    }
    if (model == null || !Files.isRegularFile(model)) {
      throw new IllegalArgumentException("--model must name a GGUF file, got " + model);
    }
    long modelBytes = Files.size(model);
    String prompt =
        "Sensor report for press 3: oil temperature 71.2 C, normal 40 to 80, pressure 180 bar,"
            + " vibration 2.1 mm/s. Summarize the state of the machine for the operator:";
    System.out.printf(
        "model %s (%d MiB), %d threads, n_predict %d, %d rounds%n",
        model.getFileName(), modelBytes >> 20, threads, nPredict, rounds);

    double bandwidth = memoryReadBandwidth(threads);
    System.out.printf(
        "memory read bandwidth (%d threads): %.1f GB/s -> ceiling %.1f tokens/s for this file%n",
        threads, bandwidth / 1e9, bandwidth / modelBytes);

    Path nativeDir = Files.createTempDirectory("edgeslm-bench-native-");
    System.setProperty("de.kherud.llama.tmpdir", nativeDir.toString());
    // The worker keeps warnings and errors only; do the same here so both sides log alike.
    LlamaModel.setLogger(
        LogFormat.TEXT,
        (level, msg) -> {
          if (level == LogLevel.WARN || level == LogLevel.ERROR) {
            System.err.print(msg);
          }
        });
    if (!only.equals("both")) {
      single(only, model, threads, rounds, nPredict, prompt);
      deleteTree(nativeDir);
      Runtime.getRuntime().halt(0);
    }
    LlamaModel direct =
        new LlamaModel(
            new ModelParameters()
                .setModel(model.toString())
                .setThreads(threads)
                .setCtxSize(2048)
                .setParallel(1));
    Scheduler scheduler =
        Scheduler.open(
            EngineConfig.WorkerBackend.defaults(),
            ModelSpec.of(model, threads, 2048),
            new SchedulerConfig(4, 4096, Duration.ofMinutes(10), Duration.ofMinutes(10)));

    // Warm-up, not counted: page in the weights on both sides.
    direct(direct, prompt, nPredict);
    worker(scheduler, prompt, nPredict);

    List<Sample> d = new ArrayList<>();
    List<Sample> w = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      boolean directFirst = r % 4 == 0 || r % 4 == 3;
      if (directFirst) {
        d.add(direct(direct, prompt, nPredict));
        w.add(worker(scheduler, prompt, nPredict));
      } else {
        w.add(worker(scheduler, prompt, nPredict));
        d.add(direct(direct, prompt, nPredict));
      }
      System.out.printf(
          "round %d: direct ttft %.1f ms, %.2f tok/s decode, %.2f tok/s end-to-end (%d tokens) |"
              + " worker ttft %.1f ms, %.2f tok/s decode, %.2f tok/s end-to-end (%d tokens)%n",
          r + 1,
          d.getLast().ttftMs(),
          d.getLast().tokensPerSecond(),
          d.getLast().endToEndTokensPerSecond(),
          d.getLast().tokens(),
          w.getLast().ttftMs(),
          w.getLast().tokensPerSecond(),
          w.getLast().endToEndTokensPerSecond(),
          w.getLast().tokens());
    }
    scheduler.close();

    double dTtft = median(d.stream().mapToDouble(Sample::ttftMs).toArray());
    double wTtft = median(w.stream().mapToDouble(Sample::ttftMs).toArray());
    double dTps = median(d.stream().mapToDouble(Sample::tokensPerSecond).toArray());
    double wTps = median(w.stream().mapToDouble(Sample::tokensPerSecond).toArray());
    double dE2e = median(d.stream().mapToDouble(Sample::endToEndTokensPerSecond).toArray());
    double wE2e = median(w.stream().mapToDouble(Sample::endToEndTokensPerSecond).toArray());
    double[] ratios = new double[d.size()];
    for (int i = 0; i < ratios.length; i++) {
      ratios[i] = w.get(i).endToEndTokensPerSecond() / d.get(i).endToEndTokensPerSecond();
    }
    System.out.printf(
        "RESULT direct: ttft %.1f ms, decode %.2f tok/s, end-to-end %.2f tok/s (medians)%n",
        dTtft, dTps, dE2e);
    System.out.printf(
        "RESULT worker: ttft %.1f ms, decode %.2f tok/s, end-to-end %.2f tok/s (medians)%n",
        wTtft, wTps, wE2e);
    System.out.printf(
        "RESULT worker/direct: decode %.3f, end-to-end %.3f, median of per-round end-to-end"
            + " ratios %.3f (target >= 0.97); added ttft %+.1f ms (target <= 10 ms)%n",
        wTps / dTps, wE2e / dE2e, median(ratios), wTtft - dTtft);
    System.out.printf(
        "RESULT direct decode speed = %.0f%% of the measured bandwidth ceiling (%.1f tok/s)%n",
        100 * dTps / (bandwidth / modelBytes), bandwidth / modelBytes);
    deleteTree(nativeDir);
    // The binding leaves a native thread running after close (docs/inference.md): exit.
    Runtime.getRuntime().halt(0);
  }

  /**
   * One path alone ({@code --only direct|worker}), for diagnosis: no second copy of the model is
   * loaded in the other process.
   */
  static void single(String which, Path model, int threads, int rounds, int nPredict, String prompt)
      throws Exception {
    List<Sample> samples = new ArrayList<>();
    if (which.equals("direct")) {
      LlamaModel direct =
          new LlamaModel(
              new ModelParameters()
                  .setModel(model.toString())
                  .setThreads(threads)
                  .setCtxSize(2048)
                  .setParallel(1));
      direct(direct, prompt, nPredict);
      for (int r = 0; r < rounds; r++) {
        samples.add(direct(direct, prompt, nPredict));
      }
    } else if (which.equals("worker")) {
      try (Scheduler scheduler =
          Scheduler.open(
              EngineConfig.WorkerBackend.defaults(),
              ModelSpec.of(model, threads, 2048),
              new SchedulerConfig(4, 4096, Duration.ofMinutes(10), Duration.ofMinutes(10)))) {
        worker(scheduler, prompt, nPredict);
        for (int r = 0; r < rounds; r++) {
          samples.add(worker(scheduler, prompt, nPredict));
        }
      }
    } else {
      throw new IllegalArgumentException("--only takes direct or worker, not " + which);
    }
    for (Sample s : samples) {
      System.out.printf(
          "%s: ttft %.1f ms, %.2f tok/s decode, %.2f tok/s end-to-end%n",
          which, s.ttftMs(), s.tokensPerSecond(), s.endToEndTokensPerSecond());
    }
    System.out.printf(
        "RESULT %s alone: ttft %.1f ms, decode %.2f tok/s, end-to-end %.2f tok/s (medians)%n",
        which,
        median(samples.stream().mapToDouble(Sample::ttftMs).toArray()),
        median(samples.stream().mapToDouble(Sample::tokensPerSecond).toArray()),
        median(samples.stream().mapToDouble(Sample::endToEndTokensPerSecond).toArray()));
  }

  static void deleteTree(Path dir) throws java.io.IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  static Sample direct(LlamaModel model, String prompt, int nPredict) {
    InferenceParameters p =
        new InferenceParameters(freshPrompt(prompt))
            .setNPredict(nPredict)
            .setTemperature(0)
            .setSeed(0);
    long start = System.nanoTime();
    long first = 0;
    long last = 0;
    int n = 0;
    LlamaIterator it = model.generate(p).iterator();
    while (it.hasNext()) {
      LlamaOutput o = it.next();
      if (o.text.isEmpty()) {
        continue;
      }
      long now = System.nanoTime();
      if (n == 0) {
        first = now;
      }
      last = now;
      n++;
    }
    return sample(start, first, last, n);
  }

  static Sample worker(Scheduler s, String prompt, int nPredict) throws Exception {
    AtomicLong first = new AtomicLong();
    AtomicLong last = new AtomicLong();
    long[] count = new long[1];
    long start = System.nanoTime();
    GenerationResult r =
        s.submit(
                GenerationRequest.ofPrompt(freshPrompt(prompt), nPredict),
                Priority.INTERACTIVE,
                null,
                piece -> {
                  if (piece.isEmpty()) {
                    return;
                  }
                  long now = System.nanoTime();
                  first.compareAndSet(0, now);
                  last.set(now);
                  count[0]++;
                })
            .await();
    if (r.generatedTokens() == 0) {
      throw new IllegalStateException("The worker generated nothing");
    }
    return sample(start, first.get(), last.get(), (int) count[0]);
  }

  static Sample sample(long start, long first, long last, int n) {
    double ttft = (first - start) / 1e6;
    double tps = n < 2 ? 0 : (n - 1) / ((last - first) / 1e9);
    double e2e = n / ((last - start) / 1e9);
    return new Sample(ttft, tps, e2e, n);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /**
   * Read bandwidth: {@code threads} threads each sum their own 256 MiB array several times; bytes
   * read divided by the slowest thread's time. A rough, portable stand-in for STREAM's read test.
   */
  static double memoryReadBandwidth(int threads) throws InterruptedException {
    int longs = 32 * 1024 * 1024;
    long[][] arrays = new long[threads][];
    for (int t = 0; t < threads; t++) {
      arrays[t] = new long[longs];
      Arrays.fill(arrays[t], t + 1);
    }
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
      Thread[] ts = new Thread[threads];
      long[] sums = new long[threads];
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int id = t;
        ts[t] =
            new Thread(
                () -> {
                  long sum = 0;
                  for (int pass = 0; pass < 4; pass++) {
                    long[] a = arrays[id];
                    for (int i = 0; i < a.length; i++) {
                      sum += a[i];
                    }
                  }
                  sums[id] = sum;
                });
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      double bytes = 4.0 * threads * longs * 8;
      best = Math.max(best, bytes / seconds);
      if (Arrays.stream(sums).sum() == 42) {
        System.out.print("");
      }
    }
    return best;
  }
}
