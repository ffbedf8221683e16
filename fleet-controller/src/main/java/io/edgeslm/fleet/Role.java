package io.edgeslm.fleet;

import java.util.Locale;

/**
 * API roles, each including the rights of the ones before it: a viewer reads; an operator also
 * pauses and resumes rollouts and asks nodes questions; a release manager also uploads bundles and
 * creates, approves, aborts and rolls back rollouts; an admin also manages tokens and deletes
 * bundles.
 */
public enum Role {
  VIEWER,
  OPERATOR,
  RELEASE_MANAGER,
  ADMIN;

  /** The role's name in tokens and configuration: {@code viewer}, {@code release-manager}, … */
  public String key() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Whether this role has at least the rights of {@code needed}. */
  public boolean includes(Role needed) {
    return ordinal() >= needed.ordinal();
  }

  /**
   * The role named {@code key}.
   *
   * @throws IllegalArgumentException naming the known roles
   */
  public static Role fromKey(String key) {
    for (Role r : values()) {
      if (r.key().equals(key)) {
        return r;
      }
    }
    throw new IllegalArgumentException(
        "Unknown role '" + key + "'. Use one of viewer, operator, release-manager, admin.");
  }
}
