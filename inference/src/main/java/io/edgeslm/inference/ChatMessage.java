package io.edgeslm.inference;

import java.util.Objects;

/**
 * One turn of a chat; the engine renders a list of them with the model's own chat template.
 *
 * @param role who speaks
 * @param content the text, at most {@link GenerationRequest#MAX_PROMPT_CHARS} characters
 */
public record ChatMessage(Role role, String content) {

  /** Chat roles as the OpenAI chat format and llama.cpp's templates name them. */
  public enum Role {
    SYSTEM("system"),
    USER("user"),
    ASSISTANT("assistant");

    private final String wireName;

    Role(String wireName) {
      this.wireName = wireName;
    }

    /** The lower-case name used by chat templates and the OpenAI API. */
    public String wireName() {
      return wireName;
    }
  }

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
    if (content.length() > GenerationRequest.MAX_PROMPT_CHARS) {
      throw new IllegalArgumentException(
          "A chat message may hold at most "
              + GenerationRequest.MAX_PROMPT_CHARS
              + " characters, got "
              + content.length()
              + ".");
    }
  }

  public static ChatMessage system(String content) {
    return new ChatMessage(Role.SYSTEM, content);
  }

  public static ChatMessage user(String content) {
    return new ChatMessage(Role.USER, content);
  }

  public static ChatMessage assistant(String content) {
    return new ChatMessage(Role.ASSISTANT, content);
  }
}
