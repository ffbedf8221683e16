package io.edgeslm.agent.internal.store;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The content of {@code pointer.json}: which model serves, which served before, and whether the
 * active one is still on trial (switched but not yet committed after its soak period). A trial that
 * is interrupted by a restart is rolled back, as Mender rolls back an uncommitted update.
 *
 * @param active the serving model, or null (none verified yet)
 * @param previous the model to roll back to, or null
 * @param trial whether {@code active} is not yet committed
 * @param trialAssignmentId the assignment (or side-load id) that put the active model on trial
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StorePointer(
    StoredModel active, StoredModel previous, boolean trial, String trialAssignmentId) {

  public static final StorePointer EMPTY = new StorePointer(null, null, false, null);

  public StorePointer {
    if (trial && active == null) {
      throw new IllegalArgumentException("a trial needs an active model");
    }
  }
}
