package io.edgeslm.signing;

import io.edgeslm.signing.internal.crypto.Dsse;
import io.edgeslm.signing.internal.crypto.Hex;
import io.edgeslm.signing.internal.trust.RootCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys a node trusts, and for what. Built either from a signed trust root (the fleet's normal
 * case, rotated by {@link #rotate}) or from pinned public keys (threshold 1, no rotation).
 *
 * <p>Rules (after TUF's root role): a root is accepted only when signed by at least its own root
 * threshold of distinct root keys; a rotation to version N+1 must also be signed by the threshold
 * of the current root's root keys; a key counts once however many signatures it made; a key left
 * out of the new root is revoked. Key ids in the file never select keys: every trusted key is
 * tried.
 */
public final class TrustStore {
  private final TrustRoot root;
  private final boolean pinned;

  private TrustStore(TrustRoot root, boolean pinned) {
    this.root = root;
    this.pinned = pinned;
  }

  /** Trust exactly these keys for releases, threshold 1 (the CLI's {@code --public-key}). */
  public static TrustStore pinned(List<VerificationKey> releaseKeys) {
    if (releaseKeys.isEmpty()) {
      throw new IllegalArgumentException("pin at least one key");
    }
    Map<String, VerificationKey> keys = new LinkedHashMap<>();
    releaseKeys.forEach(k -> keys.put(k.keyId(), k));
    Map<KeyRole, RoleKeys> roles = new EnumMap<>(KeyRole.class);
    roles.put(KeyRole.RELEASE, new RoleKeys(List.copyOf(keys.keySet()), 1));
    return new TrustStore(new TrustRoot(0, keys, roles), true);
  }

  /**
   * Loads a signed trust root as the node's anchor: the file the node was provisioned with (or the
   * last root it accepted), checked against its own root keys and threshold.
   *
   * @throws UntrustedKeyException when fewer distinct root keys than the threshold signed it
   * @throws MalformedInputException when the file is not a trust root
   */
  public static TrustStore load(Path file) throws SigningException {
    return fromSignedRoot(read(file), file.toString());
  }

  /** {@link #load} from bytes; {@code source} names them in messages. */
  public static TrustStore fromSignedRoot(byte[] signedRoot, String source)
      throws SigningException {
    RootCodec.SignedRoot env = RootCodec.parseEnvelope(signedRoot, source);
    TrustRoot root = RootCodec.parsePayload(env.payload(), source);
    requireThreshold(root, env, "its own", source);
    return new TrustStore(root, false);
  }

  /**
   * Accepts the next root (version + 1) if the current root keys and the new root keys each sign it
   * with their threshold; returns the store for the new root. This store is unchanged.
   *
   * @throws UntrustedKeyException when either threshold is not met
   * @throws MalformedInputException when the file is not a trust root or skips a version
   */
  public TrustStore rotate(byte[] nextSignedRoot, String source) throws SigningException {
    if (pinned) {
      throw new UntrustedKeyException(
          "Cannot rotate pinned keys with "
              + source
              + ": pinned public keys have no root role. Load a signed trust root instead.");
    }
    RootCodec.SignedRoot env = RootCodec.parseEnvelope(nextSignedRoot, source);
    // Authenticate with the keys we already trust before parsing anything the payload says.
    requireThreshold(root, env, "the current (version " + root.version() + ")", source);
    TrustRoot next = RootCodec.parsePayload(env.payload(), source);
    if (next.version() != root.version() + 1) {
      throw new MalformedInputException(
          source
              + " has root version "
              + next.version()
              + ", but the trusted root is version "
              + root.version()
              + " and rotation goes one version at a time (expected "
              + (root.version() + 1)
              + "). Apply the missing roots in order.");
    }
    requireThreshold(next, env, "its own", source);
    return new TrustStore(next, false);
  }

  /** {@link #rotate(byte[], String)} from a file. */
  public TrustStore rotate(Path nextRoot) throws SigningException {
    return rotate(read(nextRoot), nextRoot.toString());
  }

  /**
   * Applies newer roots in order, each checked against the one before: how a node catches up from a
   * USB stick or after being offline.
   */
  public TrustStore rotateAll(List<Path> newerRoots) throws SigningException {
    TrustStore current = this;
    for (Path p : newerRoots) {
      current = current.rotate(p);
    }
    return current;
  }

  /**
   * Writes a signed trust root: the payload plus one signature per key. Signing with a key twice
   * adds nothing (each key counts once). The result still has to meet thresholds when loaded or
   * rotated to; the CLI checks that before writing a file.
   */
  public static byte[] signRoot(TrustRoot root, List<SigningKey> signers) {
    byte[] payload = RootCodec.writePayload(root);
    byte[] pae = Dsse.pae(RootCodec.PAYLOAD_TYPE, payload);
    Map<String, byte[]> sigs = new LinkedHashMap<>();
    for (SigningKey k : signers) {
      sigs.putIfAbsent(k.verificationKey().keyId(), k.sign(pae));
    }
    return RootCodec.writeEnvelope(payload, sigs);
  }

  public TrustRoot root() {
    return root;
  }

  /** Root version; 0 for pinned keys. */
  public long version() {
    return root.version();
  }

  public boolean isPinned() {
    return pinned;
  }

  public List<VerificationKey> keys(KeyRole role) {
    return root.keysFor(role);
  }

  /** Distinct keys of {@code role} needed; 0 when the role is not defined. */
  public int threshold(KeyRole role) {
    RoleKeys rk = root.roles().get(role);
    return rk == null ? 0 : rk.threshold();
  }

  /** "trust root version 3" or "pinned key abc…". */
  public String describe() {
    if (pinned) {
      return "pinned key"
          + (root.keys().size() > 1 ? "s " : " ")
          + String.join(", ", root.keys().keySet().stream().map(Hex::abbreviate).toList());
    }
    return "trust root version " + root.version();
  }

  /** Key ids of {@code role} that made a valid signature over the PAE of {@code payload}. */
  static Set<String> signersOf(
      List<VerificationKey> candidates, String payloadType, byte[] payload, List<byte[]> sigs) {
    byte[] pae = Dsse.pae(payloadType, payload);
    Set<String> signers = new LinkedHashSet<>();
    for (VerificationKey k : candidates) {
      for (byte[] sig : sigs) {
        if (k.verifies(pae, sig)) {
          signers.add(k.keyId());
          break;
        }
      }
    }
    return signers;
  }

  private static void requireThreshold(
      TrustRoot trusted, RootCodec.SignedRoot env, String which, String source)
      throws UntrustedKeyException {
    List<VerificationKey> rootKeys = trusted.keysFor(KeyRole.ROOT);
    RoleKeys rk = trusted.roles().get(KeyRole.ROOT);
    if (rk == null) {
      throw new UntrustedKeyException(
          source + ": " + which + " root defines no 'root' role, so nothing can sign a root.");
    }
    Set<String> signers =
        signersOf(rootKeys, RootCodec.PAYLOAD_TYPE, env.payload(), env.signatures());
    if (signers.size() < rk.threshold()) {
      List<String> ids = new ArrayList<>();
      signers.forEach(id -> ids.add(Hex.abbreviate(id)));
      throw new UntrustedKeyException(
          source
              + " is signed by "
              + signers.size()
              + " distinct key(s) of "
              + which
              + " root role "
              + ids
              + ", below its threshold of "
              + rk.threshold()
              + " (rule: threshold of distinct root keys, each counted once). Collect"
              + " signatures from more root key holders.");
    }
  }

  private static byte[] read(Path file) throws SigningException {
    try {
      long size = Files.size(file);
      if (size > RootCodec.MAX_ROOT_FILE_BYTES) {
        throw new MalformedInputException(
            file
                + " has "
                + size
                + " bytes; a trust root has at most "
                + RootCodec.MAX_ROOT_FILE_BYTES
                + ". Point at a trust-root file.");
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new SigningIoException(
          "Cannot read trust root " + file + ": " + e + ". Check the path and permissions.", e);
    }
  }

  @Override
  public String toString() {
    return "TrustStore[" + describe() + "]";
  }
}
