package io.edgeslm.signing;

/** What a trusted key may sign. */
public enum KeyRole {
  /** Signs trust roots: the initial one and each rotation. */
  ROOT("root"),
  /** Signs model bundles ({@code model.sig}). */
  RELEASE("release");

  private final String jsonName;

  KeyRole(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The role's name in the trust-root document. */
  public String jsonName() {
    return jsonName;
  }
}
