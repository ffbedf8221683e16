package io.edgeslm.testkit;

import com.fasterxml.jackson.databind.ObjectMapper;
import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs in a child JVM (see {@link ChildJvm}): loads a GGUF model in llama.cpp, tokenizes and
 * detokenizes a sentence, applies the chat template and generates tokens with a fixed seed, then
 * prints one JSON line prefixed {@code RESULT } and exits explicitly (the binding leaves a native
 * thread that keeps the JVM alive).
 *
 * <p>Arguments: model path, sentence, number of tokens to generate.
 */
public final class LlamaProbeMain {
  private LlamaProbeMain() {}

  public static void main(String[] args) {
    int status = 1;
    try {
      Map<String, Object> result = probe(args[0], args[1], Integer.parseInt(args[2]));
      System.out.println("RESULT " + new ObjectMapper().writeValueAsString(result));
      System.out.flush();
      status = 0;
    } catch (Throwable t) {
      t.printStackTrace();
    }
    System.exit(status);
  }

  private static Map<String, Object> probe(String model, String sentence, int nPredict)
      throws Exception {
    Map<String, Object> r = new LinkedHashMap<>();
    try (LlamaModel m =
        new LlamaModel(
            new ModelParameters().setModel(model).setCtxSize(256).setThreads(2).setSeed(7))) {
      int[] tokens = m.encode(sentence);
      List<Integer> ids = new ArrayList<>();
      for (int t : tokens) {
        ids.add(t);
      }
      r.put("tokens", ids);
      r.put("decoded", m.decode(tokens));
      r.put(
          "template",
          m.applyTemplate(
              new InferenceParameters("")
                  .setMessages(
                      "You watch the pumps.", List.of(new Pair<>("user", "Is pump 3 ok?")))));
      List<String> pieces = new ArrayList<>();
      for (LlamaOutput o :
          m.generate(
              new InferenceParameters("The pump temperature is")
                  .setNPredict(nPredict)
                  .setSeed(42)
                  .setTemperature(0.8f)
                  .setIgnoreEos(true))) {
        pieces.add(o.text);
      }
      // The stream ends with a stop message that carries no token; it is not a generated token.
      if (!pieces.isEmpty() && pieces.getLast().isEmpty()) {
        pieces.removeLast();
      }
      r.put("generated", pieces);
    }
    return r;
  }
}
