package io.edgeslm.testkit;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings of a private Mosquitto the kit starts ({@link MqttBroker#privateMosquitto}). The kit
 * writes the listener itself (loopback, a free port); everything else comes from here. Immutable:
 * each {@code with…} returns a copy.
 *
 * @param maxPacketSize {@code max_packet_size} in bytes, or 0 for the broker's default
 * @param persistence keep retained messages and sessions across {@link MqttBroker#restart()}
 * @param allowAnonymous accept clients without a username
 * @param aclLines lines of an ACL file ({@code topic read a/#}, {@code pattern write
 *     edge/v1/+/%u/status}, ...); empty means no ACL file
 * @param tls TLS for the listener, or {@code null} for plain TCP
 * @param extraLines further configuration lines appended verbatim (e.g. {@code
 *     max_inflight_messages 5})
 */
public record MosquittoConfig(
    int maxPacketSize,
    boolean persistence,
    boolean allowAnonymous,
    List<String> aclLines,
    MosquittoTls tls,
    List<String> extraLines) {

  public MosquittoConfig {
    if (maxPacketSize < 0 || maxPacketSize > 268_435_455) {
      throw new IllegalArgumentException(
          "maxPacketSize must be 0 (broker default) or up to 268435455 (the MQTT limit), got "
              + maxPacketSize
              + ".");
    }
    aclLines = List.copyOf(aclLines);
    extraLines = List.copyOf(extraLines);
    for (String line : concat(aclLines, extraLines)) {
      if (line.contains("\n") || line.contains("\r")) {
        throw new IllegalArgumentException(
            "Configuration lines must not contain line breaks: '" + line + "'. Pass one per line.");
      }
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** Plain TCP, anonymous, no persistence, no ACL, the broker's default packet size. */
  public static MosquittoConfig defaults() {
    return new MosquittoConfig(0, false, true, List.of(), null, List.of());
  }

  public MosquittoConfig withMaxPacketSize(int bytes) {
    return new MosquittoConfig(bytes, persistence, allowAnonymous, aclLines, tls, extraLines);
  }

  public MosquittoConfig withPersistence(boolean value) {
    return new MosquittoConfig(maxPacketSize, value, allowAnonymous, aclLines, tls, extraLines);
  }

  public MosquittoConfig withAllowAnonymous(boolean value) {
    return new MosquittoConfig(maxPacketSize, persistence, value, aclLines, tls, extraLines);
  }

  public MosquittoConfig withAcl(String... lines) {
    return new MosquittoConfig(
        maxPacketSize, persistence, allowAnonymous, List.of(lines), tls, extraLines);
  }

  public MosquittoConfig withTls(MosquittoTls value) {
    return new MosquittoConfig(
        maxPacketSize, persistence, allowAnonymous, aclLines, value, extraLines);
  }

  public MosquittoConfig withExtraLines(String... lines) {
    return new MosquittoConfig(
        maxPacketSize, persistence, allowAnonymous, aclLines, tls, List.of(lines));
  }
}
