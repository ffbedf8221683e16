package io.edgeslm.fixturebeta;

import io.edgeslm.fixturealpha.internal.AlphaSecret;

/** Fixture: the deliberate violation, module "beta" calling into alpha's internal package. */
public final class BetaUsesAlphaInternals {
  public int borrow() {
    return AlphaSecret.answer();
  }
}
