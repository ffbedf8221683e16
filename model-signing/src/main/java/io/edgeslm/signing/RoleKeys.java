package io.edgeslm.signing;

import io.edgeslm.signing.internal.crypto.Hex;
import java.util.HashSet;
import java.util.List;

/**
 * The keys trusted for one role and how many of them must sign.
 *
 * @param keyIds distinct key ids ({@link VerificationKey#keyId()})
 * @param threshold distinct keys needed, from 1 to {@code keyIds.size()}
 */
public record RoleKeys(List<String> keyIds, int threshold) {
  /** Bound on keys per role; a fleet's release managers fit many times over. */
  public static final int MAX_KEYS = 32;

  public RoleKeys {
    keyIds = List.copyOf(keyIds);
    if (keyIds.isEmpty() || keyIds.size() > MAX_KEYS) {
      throw new IllegalArgumentException(
          "a role lists 1 to " + MAX_KEYS + " keys, got " + keyIds.size());
    }
    if (new HashSet<>(keyIds).size() != keyIds.size()) {
      throw new IllegalArgumentException("a role lists each key once, got duplicates in " + keyIds);
    }
    for (String id : keyIds) {
      if (!Hex.isLowerHex(id, 32)) {
        throw new IllegalArgumentException("key id '" + id + "' is not 64 lowercase hex digits");
      }
    }
    if (threshold < 1 || threshold > keyIds.size()) {
      throw new IllegalArgumentException(
          "threshold must be between 1 and the number of keys ("
              + keyIds.size()
              + "), got "
              + threshold);
    }
  }
}
