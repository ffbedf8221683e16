package io.edgeslm.testkit.internal.vocab;

import io.edgeslm.testkit.ChatTemplate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A SentencePiece-style ({@code tokenizer.ggml.model = "llama"}) vocabulary that llama.cpp can
 * tokenize and detokenize real text with.
 *
 * <p>Layout: {@code <unk>}, the special tokens of the Llama 3 and ChatML chat layouts (control
 * tokens), the 256 byte-fallback tokens {@code <0x00>}..{@code <0xFF>}, single characters, then
 * English and plant-floor words. A word is reachable by llama.cpp's SentencePiece merge loop only
 * if each intermediate merge is itself a token, so every word comes with all of its prefixes
 * ({@code ▁t}, {@code ▁te}, {@code ▁tem}, ...). The remainder up to the requested size is filled
 * with pronounceable pseudo-words, so that a model with a real vocabulary size has a real output
 * layer. The last four ids hold {@link #TAIL_SPECIALS}. Any text round-trips: what no piece covers
 * falls back to byte tokens.
 */
public final class SyntheticVocabulary {
  /** SentencePiece's word-boundary marker, U+2581. */
  public static final String SPACE = "\u2581";

  // llama_token_type (llama.cpp llama.h): the values stored in tokenizer.ggml.token_type.
  public static final int TYPE_NORMAL = 1;
  public static final int TYPE_UNKNOWN = 2;
  public static final int TYPE_CONTROL = 3;
  public static final int TYPE_BYTE = 6;

  /** Control tokens, in id order after {@code <unk>} (id 0). */
  public static final List<String> SPECIALS =
      List.of(
          "<s>",
          "</s>",
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|start_header_id|>",
          "<|end_header_id|>",
          "<|eot_id|>",
          "<|im_start|>",
          "<|im_end|>");

  private static final String SINGLE_CHARS =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-+*/=()[]{}<>_%#@&|~^$`\\";

  private static final String WORDS =
      """
      the of and to in is it that for on was with as be at by this are from or have an not but
      what all were when we there can more if no out so said up one about into than them its only
      other new some could time these two may then do first any my now such like our over man
      me even most made after also did many before must through back years where much your way
      well down should because each just those people how too little state good very make world
      still own see men work long get here between both life being under never day same another
      know while last might us great old year off come since against go came right used take
      three value values report reports sensor sensors temperature pressure humidity vibration
      speed current voltage power level flow rate alarm alarms warning normal high low above
      below threshold limit limits anomaly anomalies detected detect reading readings line cell
      machine machines pump pumps motor motors valve valves tank tanks conveyor oven press robot
      node nodes gateway site plant factory store shift operator question answer status health
      model models update rollout version signed bundle degrees celsius bar percent minutes
      seconds hours today yesterday average maximum minimum increased decreased stable rising
      falling check inspect replace restart stop start running stopped fault error ok yes
      hello hi please thank thanks you he she they his her which would their will has had
      who been one zero three four five six seven eight nine ten hundred thousand json true
      false null summary cause action recommended since last quick brown fox jumps lazy dog
      """;

  private final List<String> tokens;
  private final float[] scores;
  private final int[] types;
  private final int bosId;
  private final int eosId;

  private SyntheticVocabulary(
      List<String> tokens, float[] scores, int[] types, int bosId, int eosId) {
    this.tokens = tokens;
    this.scores = scores;
    this.types = types;
    this.bosId = bosId;
    this.eosId = eosId;
  }

  public static final int TYPE_USER_DEFINED = 4;

  /**
   * Special tokens of the later layouts (Qwen3 thinking, Gemma turns), placed at the very end of
   * the vocabulary: appending them there kept every earlier token's id, so models written before
   * they existed still tokenize the same. The thinking tags are user-defined tokens (tokenized and
   * printed as text, as in Qwen3's own files); the turn markers are control tokens.
   */
  public static final List<String> TAIL_SPECIALS =
      List.of("<think>", "</think>", "<start_of_turn>", "<end_of_turn>");

  /** Number of tokens before padding: the smallest size {@link #of} accepts. */
  public static int coreSize() {
    return corePieces().size() + 1 + SPECIALS.size() + 256 + TAIL_SPECIALS.size();
  }

  /**
   * Builds a vocabulary of exactly {@code size} tokens whose BOS/EOS suit {@code template}: Llama 3
   * starts with {@code <|begin_of_text|>}, ChatML with {@code <s>}; EOS is the template's
   * end-of-turn token, so generation stops at the end of an assistant turn.
   *
   * @throws IllegalArgumentException if {@code size} is below {@link #coreSize()}
   */
  public static SyntheticVocabulary of(int size, ChatTemplate template) {
    List<String> pieces = corePieces();
    int core = pieces.size() + 1 + SPECIALS.size() + 256 + TAIL_SPECIALS.size();
    if (size < core) {
      throw new IllegalArgumentException(
          "A synthetic vocabulary needs at least "
              + core
              + " tokens (specials, bytes and word pieces), asked for "
              + size
              + ".");
    }
    List<String> tokens = new ArrayList<>(size);
    float[] scores = new float[size];
    int[] types = new int[size];
    tokens.add("<unk>");
    types[0] = TYPE_UNKNOWN;
    for (String s : SPECIALS) {
      types[tokens.size()] = TYPE_CONTROL;
      tokens.add(s);
    }
    for (int b = 0; b < 256; b++) {
      types[tokens.size()] = TYPE_BYTE;
      tokens.add(String.format(Locale.ROOT, "<0x%02X>", b));
    }
    Set<String> seen = new LinkedHashSet<>(tokens);
    int rank = 0;
    for (String p : pieces) {
      seen.add(p);
      scores[tokens.size()] = -(++rank);
      types[tokens.size()] = TYPE_NORMAL;
      tokens.add(p);
    }
    PseudoWords filler = new PseudoWords();
    while (tokens.size() < size - TAIL_SPECIALS.size()) {
      String p = SPACE + filler.next();
      if (seen.add(p)) {
        scores[tokens.size()] = -(++rank);
        types[tokens.size()] = TYPE_NORMAL;
        tokens.add(p);
      }
    }
    for (String t : TAIL_SPECIALS) {
      types[tokens.size()] = t.contains("think") ? TYPE_USER_DEFINED : TYPE_CONTROL;
      tokens.add(t);
    }
    int bos = tokens.indexOf(template == ChatTemplate.LLAMA3 ? "<|begin_of_text|>" : "<s>");
    int eos = tokens.indexOf(template.endOfTurn());
    return new SyntheticVocabulary(List.copyOf(tokens), scores, types, bos, eos);
  }

  private static List<String> corePieces() {
    Set<String> pieces = new LinkedHashSet<>();
    pieces.add(SPACE);
    for (char c : SINGLE_CHARS.toCharArray()) {
      pieces.add(String.valueOf(c));
      pieces.add(SPACE + c);
    }
    for (String w : WORDS.strip().split("\\s+")) {
      addWithPrefixes(pieces, w);
      addWithPrefixes(pieces, Character.toUpperCase(w.charAt(0)) + w.substring(1));
    }
    return new ArrayList<>(pieces);
  }

  private static void addWithPrefixes(Set<String> pieces, String word) {
    for (int end = 1; end <= word.length(); end++) {
      pieces.add(SPACE + word.substring(0, end));
    }
  }

  public List<String> tokens() {
    return tokens;
  }

  public float[] scores() {
    return scores.clone();
  }

  public int[] types() {
    return types.clone();
  }

  public int bosId() {
    return bosId;
  }

  public int eosId() {
    return eosId;
  }

  public int unknownId() {
    return 0;
  }

  /** Consonant–vowel syllables counted up like digits: "ba", "be", ..., "baba", "babe", .... */
  private static final class PseudoWords {
    private static final String CONSONANTS = "bdfgklmnprstvz";
    private static final String VOWELS = "aeiou";
    private static final int SYLLABLES = CONSONANTS.length() * VOWELS.length();

    private long counter = SYLLABLES; // start at two syllables: one-syllable words look like words

    String next() {
      long n = counter++;
      StringBuilder sb = new StringBuilder();
      do {
        int s = (int) (n % SYLLABLES);
        sb.append(CONSONANTS.charAt(s / VOWELS.length()))
            .append(VOWELS.charAt(s % VOWELS.length()));
        n /= SYLLABLES;
      } while (n > 0);
      return sb.toString();
    }
  }
}
