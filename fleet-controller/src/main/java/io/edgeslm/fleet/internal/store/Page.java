package io.edgeslm.fleet.internal.store;

import java.util.List;

/**
 * One page of a keyset-paginated list.
 *
 * @param items the items, at most the requested limit
 * @param next the cursor for the next page, or null on the last page
 */
public record Page<T>(List<T> items, String next) {

  public Page {
    items = List.copyOf(items);
  }
}
