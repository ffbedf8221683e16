package io.edgeslm.testkit;

/**
 * The chat template stored in a synthetic model's {@code tokenizer.chat_template}. All are Jinja
 * templates written for this kit in the message layouts Meta (Llama 3), Qwen (ChatML, and Qwen3's
 * ChatML with thinking) and Google (Gemma turns) publish; llama.cpp recognises each, with or
 * without its Jinja engine. The vocabulary always contains the special tokens of every layout, so
 * any template can be paired with any shape.
 */
public enum ChatTemplate {
  /**
   * Llama 3 layout: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>}, after
   * the BOS token.
   */
  LLAMA3(
      "{{ bos_token }}{% for message in messages %}"
          + "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
          + "{{ message['content'] | trim }}{{ '<|eot_id|>' }}{% endfor %}"
          + "{% if add_generation_prompt %}"
          + "{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
      "<|eot_id|>"),
  /** ChatML layout: {@code <|im_start|>role\ncontent<|im_end|>\n}. */
  CHATML(
      "{% for message in messages %}"
          + "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
          + "{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
      "<|im_end|>"),
  /**
   * Qwen3's ChatML with reasoning, as Qwen3's own template behaves: earlier assistant turns lose
   * everything up to {@code </think>} (reasoning never goes back into the context), and when the
   * caller renders with {@code enable_thinking = false} the generation prompt already holds an
   * empty {@code <think>} block, so the model answers without thinking. {@code <think>} and {@code
   * </think>} are plain-text special tokens, so they appear in the generated text where
   * llama-server's reasoning parser finds them.
   */
  QWEN3(
      "{%- for message in messages %}"
          + "{%- if message['role'] == 'assistant' %}"
          + "{%- set content = message['content'] %}"
          + "{%- if '</think>' in content %}"
          + "{%- set content = content.split('</think>')[-1].lstrip('\n') %}"
          + "{%- endif %}"
          + "{{- '<|im_start|>assistant\n' + content + '<|im_end|>\n' }}"
          + "{%- else %}"
          + "{{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
          + "{%- endif %}"
          + "{%- endfor %}"
          + "{%- if add_generation_prompt %}"
          + "{{- '<|im_start|>assistant\n' }}"
          + "{%- if enable_thinking is defined and enable_thinking is false %}"
          + "{{- '<think>\n\n</think>\n\n' }}"
          + "{%- endif %}"
          + "{%- endif %}",
      "<|im_end|>"),
  /**
   * Gemma turns: {@code <start_of_turn>user\ncontent<end_of_turn>\n}, the assistant's role named
   * {@code model}; Gemma has no system role, so a system message opens the first user turn.
   */
  GEMMA(
      "{{- bos_token }}"
          + "{%- if messages[0]['role'] == 'system' %}"
          + "{%- set first = messages[0]['content'] + '\n\n' %}"
          + "{%- set turns = messages[1:] %}"
          + "{%- else %}"
          + "{%- set first = '' %}"
          + "{%- set turns = messages %}"
          + "{%- endif %}"
          + "{%- for message in turns %}"
          + "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
          + "{{- '<start_of_turn>' + role + '\n' + (first if loop.first else '')"
          + " + (message['content'] | trim) + '<end_of_turn>\n' }}"
          + "{%- endfor %}"
          + "{%- if add_generation_prompt %}{{- '<start_of_turn>model\n' }}{%- endif %}",
      "<end_of_turn>");

  private final String jinja;
  private final String endOfTurn;

  ChatTemplate(String jinja, String endOfTurn) {
    this.jinja = jinja;
    this.endOfTurn = endOfTurn;
  }

  /** The Jinja source written to {@code tokenizer.chat_template}. */
  public String jinja() {
    return jinja;
  }

  /** The special token that ends an assistant turn; the model's EOS token id points at it. */
  public String endOfTurn() {
    return endOfTurn;
  }
}
