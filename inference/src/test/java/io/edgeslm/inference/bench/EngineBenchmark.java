package io.edgeslm.inference.bench;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.GenerationRequest;
import io.edgeslm.inference.GenerationResult;
import io.edgeslm.inference.InferenceEngine;
import io.edgeslm.inference.InferenceEngines;
import io.edgeslm.inference.ModelSpec;
import io.edgeslm.inference.TokenListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Decode and prompt speed of the llama-server engine and of the bundled worker on the same model
 * and threads, rounds interleaved (bench/engine/run.sh compares them with llama-bench of the same
 * llama-server build). Decode: tokens after the first of a greedy generation divided by the time
 * from the first to the last token. Prompt: a fresh prompt of about {@code --prompt-words} words (a
 * new first word per round, so no prompt cache helps) with one token to generate; prompt tokens
 * divided by the time to the first token.
 *
 * <p>Usage: {@code EngineBenchmark --model m.gguf --llama-server bin [--threads 2] [--rounds 5]
 * [--n-predict 64] [--prompt-words 100]}
 */
public final class EngineBenchmark {
  private EngineBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path model = null;
    Path server = null;
    int threads = 2;
    int rounds = 5;
    int nPredict = 64;
    int words = 100;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--model" -> model = Path.of(args[++i]);
        case "--llama-server" -> server = Path.of(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--n-predict" -> nPredict = Integer.parseInt(args[++i]);
        case "--prompt-words" -> words = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("Unknown argument " + args[i]);
      }
    }
    if (model == null || server == null) {
      throw new IllegalArgumentException("--model and --llama-server are required");
    }
    ModelSpec spec = ModelSpec.of(model, threads, 4096);
    List<Double> lsDecode = new ArrayList<>();
    List<Double> lsPrompt = new ArrayList<>();
    List<Double> wDecode = new ArrayList<>();
    List<Double> wPrompt = new ArrayList<>();
    try (InferenceEngine ls =
            InferenceEngines.open(EngineConfig.LlamaServerBackend.of(server), spec);
        InferenceEngine worker =
            InferenceEngines.open(EngineConfig.WorkerBackend.defaults(), spec)) {
      for (int r = 0; r < rounds + 1; r++) {
        boolean warm = r == 0;
        measure(
            "llama-server", ls, r, nPredict, words, warm ? null : lsDecode, warm ? null : lsPrompt);
        measure("worker", worker, r, nPredict, words, warm ? null : wDecode, warm ? null : wPrompt);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "RESULT llama-server engine: decode %.2f tok/s, prompt %.1f tok/s (medians of %d)%n",
        median(lsDecode),
        median(lsPrompt),
        rounds);
    System.out.printf(
        Locale.ROOT,
        "RESULT worker engine: decode %.2f tok/s, prompt %.1f tok/s (medians of %d)%n",
        median(wDecode),
        median(wPrompt),
        rounds);
  }

  private static void measure(
      String name,
      InferenceEngine e,
      int round,
      int nPredict,
      int words,
      List<Double> decode,
      List<Double> prompt)
      throws Exception {
    // Decode: a short fresh prompt, greedy, nPredict tokens (stops only at the bound: no stop
    // strings, and a synthetic model rarely samples its end token).
    GenerationResult d =
        e.generate(
                GenerationRequest.ofPrompt("Round " + round + " status:", nPredict),
                TokenListener.NONE)
            .await();
    StringBuilder p = new StringBuilder("R" + round + "x" + System.nanoTime());
    for (int i = 0; i < words; i++) {
      p.append(" press oil pump flow").append(i % 10);
    }
    GenerationResult q =
        e.generate(GenerationRequest.ofPrompt(p.toString(), 1), TokenListener.NONE).await();
    double pp = q.promptTokens() / (q.timings().timeToFirstToken().toNanos() / 1e9);
    System.out.printf(
        Locale.ROOT,
        "%s round %d: decode %.2f tok/s (%d tokens), prompt %.1f tok/s (%d tokens, ttft %d ms)%n",
        name,
        round,
        d.timings().tokensPerSecond(),
        d.generatedTokens(),
        pp,
        q.promptTokens(),
        q.timings().timeToFirstToken().toMillis());
    if (decode != null) {
      decode.add(d.timings().tokensPerSecond());
      prompt.add(pp);
    }
  }

  private static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    Collections.sort(s);
    return s.isEmpty() ? 0 : s.get(s.size() / 2);
  }
}
