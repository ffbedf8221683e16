package io.edgeslm.signing;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The content of a trust root: which keys exist, what each role may sign and with what threshold.
 * Revocation is by omission: a key absent from the current root is not trusted.
 *
 * @param version 1 for the first root; each rotation adds exactly 1
 * @param keys every key the roles name, by key id
 * @param roles {@link KeyRole#RELEASE} always; {@link KeyRole#ROOT} in every signed root
 */
public record TrustRoot(
    long version, Map<String, VerificationKey> keys, Map<KeyRole, RoleKeys> roles) {

  public TrustRoot {
    if (version < 0) {
      throw new IllegalArgumentException("version must be 0 (pinned keys) or more, got " + version);
    }
    keys = Map.copyOf(new LinkedHashMap<>(keys));
    roles = Map.copyOf(new EnumMap<>(roles));
    for (Map.Entry<String, VerificationKey> e : keys.entrySet()) {
      if (!e.getKey().equals(e.getValue().keyId())) {
        throw new IllegalArgumentException(
            "key listed under id " + e.getKey() + " has key id " + e.getValue().keyId());
      }
    }
    if (!roles.containsKey(KeyRole.RELEASE)) {
      throw new IllegalArgumentException("a trust root must define the 'release' role");
    }
    for (Map.Entry<KeyRole, RoleKeys> e : roles.entrySet()) {
      for (String id : e.getValue().keyIds()) {
        if (!keys.containsKey(id)) {
          throw new IllegalArgumentException(
              "role '" + e.getKey().jsonName() + "' names key " + id + ", which is not in 'keys'");
        }
      }
    }
  }

  /** A root from key lists; key ids are computed. */
  public static TrustRoot of(
      long version,
      List<VerificationKey> rootKeys,
      int rootThreshold,
      List<VerificationKey> releaseKeys,
      int releaseThreshold) {
    Map<String, VerificationKey> keys = new LinkedHashMap<>();
    rootKeys.forEach(k -> keys.put(k.keyId(), k));
    releaseKeys.forEach(k -> keys.put(k.keyId(), k));
    Map<KeyRole, RoleKeys> roles = new EnumMap<>(KeyRole.class);
    roles.put(
        KeyRole.ROOT,
        new RoleKeys(rootKeys.stream().map(VerificationKey::keyId).toList(), rootThreshold));
    roles.put(
        KeyRole.RELEASE,
        new RoleKeys(releaseKeys.stream().map(VerificationKey::keyId).toList(), releaseThreshold));
    return new TrustRoot(version, keys, roles);
  }

  /** The keys of a role in listed order (empty when the role is not defined). */
  public List<VerificationKey> keysFor(KeyRole role) {
    RoleKeys rk = roles.get(role);
    return rk == null ? List.of() : rk.keyIds().stream().map(keys::get).toList();
  }
}
