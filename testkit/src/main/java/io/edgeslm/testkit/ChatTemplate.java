package io.edgeslm.testkit;

/**
 * The chat template stored in a synthetic model's {@code tokenizer.chat_template}. Both are Jinja
 * templates written for this kit in the message layouts Meta (Llama 3) and Qwen (ChatML) publish;
 * llama.cpp recognises either, with or without its Jinja engine. The vocabulary always contains the
 * special tokens of both layouts, so either template can be paired with any shape.
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
      "<|im_end|>");

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
