package io.edgeslm.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.ModelShape.Architecture;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.SyntheticModel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reasoning switch ({@code thinking}) of the llama-server engine against the pinned
 * llama-server and a synthetic Qwen3 model, whose template has the {@code enable_thinking} switch:
 * with thinking off the server renders the prompt with an empty {@code <think></think>} block
 * already in place, so no answer token goes to thoughts; with thinking on or off, a thought span
 * the model does write never reaches the answer text. The synthetic model writes random tokens, so
 * where a span must be in the output a grammar puts it there.
 */
class ThinkingIT {
  /** Forces a thought span, then the answer "ok". */
  private static final String THOUGHT_THEN_OK = "root ::= \"<think>\" \"hmm\" \"</think>\" \"ok\"";

  @TempDir Path dir;

  private ModelSpec qwen3() throws Exception {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(Architecture.QWEN3), Quantization.Q8_0, 7);
    return ModelSpec.of(m.write(dir.resolve(m.suggestedFileName())), 1, 1024);
  }

  private static GenerationRequest question(int nPredict) {
    return GenerationRequest.ofChat(
        List.of(ChatMessage.system("You watch the pumps."), ChatMessage.user("Is pump 3 ok?")),
        nPredict);
  }

  private static GenerationRequest constrained(String grammar) {
    GenerationRequest q = question(32);
    return new GenerationRequest(
        q.prompt(),
        q.messages(),
        q.nPredict(),
        q.temperature(),
        q.seed(),
        q.stopStrings(),
        grammar,
        null);
  }

  @Test
  void thinkingOff_serverRendersAnEmptyThoughtBlock_soTheWholeBudgetIsAnswer() throws Exception {
    ModelSpec spec = qwen3();
    int promptOn;
    try (InferenceEngine on =
        InferenceEngines.open(Backend.llamaServer().withThinking(true), spec)) {
      promptOn = on.countPromptTokens(question(8));
    }
    try (InferenceEngine off =
        InferenceEngines.open(Backend.llamaServer().withThinking(false), spec)) {
      int promptOff = off.countPromptTokens(question(8));
      // The Qwen3 template appends "<think>\n\n</think>\n\n" to the generation prompt only when
      // rendered with enable_thinking=false: the server was told to turn thinking off.
      assertThat(promptOff).isGreaterThan(promptOn);

      List<String> pieces = new CopyOnWriteArrayList<>();
      GenerationResult r = off.generate(question(8), pieces::add).await();
      // The server counted the closed thought block as prompt, not as generated answer tokens.
      assertThat(r.promptTokens()).isEqualTo(promptOff);
      assertThat(r.generatedTokens()).isBetween(1, 8);
      assertThat(r.text()).doesNotContain("<think>").doesNotContain("</think>");
      assertThat(String.join("", pieces)).isEqualTo(r.text());
    }
  }

  @Test
  void thinkingOff_thoughtSpanTheModelStillWrites_isCutFromTheAnswer() throws Exception {
    assertThoughtIsCut(false);
  }

  @Test
  void thinkingOn_thoughtSpanInTheStream_isKeptOutOfTheAnswer() throws Exception {
    assertThoughtIsCut(true);
  }

  private void assertThoughtIsCut(boolean thinking) throws Exception {
    try (InferenceEngine engine =
        InferenceEngines.open(Backend.llamaServer().withThinking(thinking), qwen3())) {
      List<String> pieces = new CopyOnWriteArrayList<>();
      GenerationResult r = engine.generate(constrained(THOUGHT_THEN_OK), pieces::add).await();
      assertThat(r.text()).isEqualTo("ok");
      assertThat(String.join("", pieces)).isEqualTo("ok");
      // The thought was generated (and counted), only not shown: <think>, h, m, m, </think>, o, k
      // are more tokens than the answer alone can take.
      assertThat(r.generatedTokens()).isGreaterThan(2);
    }
  }
}
