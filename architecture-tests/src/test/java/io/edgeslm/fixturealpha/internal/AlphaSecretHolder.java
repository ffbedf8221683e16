package io.edgeslm.fixturealpha.internal;

/** Fixture: alpha using its own internals, which the rule allows. */
public final class AlphaSecretHolder {
  public int value() {
    return AlphaSecret.answer();
  }
}
