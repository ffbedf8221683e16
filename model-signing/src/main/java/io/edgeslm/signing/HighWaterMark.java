package io.edgeslm.signing;

import java.util.Set;

/**
 * The highest version a node has installed on a track, and the release keys that signed it. The
 * agent persists it (surviving power loss) and passes it back in {@link NodeFacts}.
 *
 * <p>Recording the signers lets a node recover from a fast-forward attack (A4): if the keys that
 * signed the mark no longer meet the release threshold of the current trust store (they were
 * revoked by a rotation), the mark no longer blocks new releases. A mark with no recorded signers
 * always blocks.
 *
 * @param version the installed version
 * @param signerKeyIds release keys that signed it (may be empty: unknown)
 */
public record HighWaterMark(long version, Set<String> signerKeyIds) {
  public HighWaterMark {
    if (version < 0) {
      throw new IllegalArgumentException("version must be 0 or more, got " + version);
    }
    signerKeyIds = Set.copyOf(signerKeyIds);
  }

  /** A mark whose signers are unknown; it always blocks lower or equal versions. */
  public static HighWaterMark of(long version) {
    return new HighWaterMark(version, Set.of());
  }
}
