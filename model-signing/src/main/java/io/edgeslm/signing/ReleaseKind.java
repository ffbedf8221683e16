package io.edgeslm.signing;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * What a bundle carries: a whole model, or a LoRA adapter that only works on top of one base model
 * (llama.cpp refuses an adapter whose tensor shapes differ from the base it is loaded with).
 */
public enum ReleaseKind {
  /** A complete model; the default, so release.json files without {@code kind} stay valid. */
  MODEL,
  /** A LoRA adapter; its release names the digest of the base model bundle it applies to. */
  ADAPTER;

  /** The name in {@code release.json}: {@code model} or {@code adapter}. */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The kind whose {@link #jsonName()} is {@code name}, or empty. */
  public static Optional<ReleaseKind> ofJsonName(String name) {
    return Arrays.stream(values()).filter(k -> k.jsonName().equals(name)).findFirst();
  }
}
