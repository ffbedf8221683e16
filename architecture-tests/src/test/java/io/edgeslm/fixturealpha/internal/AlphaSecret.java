package io.edgeslm.fixturealpha.internal;

/** Fixture: an implementation detail of the pretend module "alpha". */
public final class AlphaSecret {
  public static int answer() {
    return 42;
  }
}
