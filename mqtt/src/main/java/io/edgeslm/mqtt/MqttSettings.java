package io.edgeslm.mqtt;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a connection needs. Build with {@link #builder(String, String)}; every value is
 * checked when built.
 *
 * @param serverUri {@code tcp://host:port}, {@code mqtt://…}, {@code ssl://…}, {@code mqtts://…}; a
 *     TLS scheme turns TLS on with {@link TlsOptions#jdkDefaults()} unless {@code tls} is given
 * @param clientId the MQTT client identifier: for a node, its node id, which is also its
 *     certificate identity, so that the broker can bind the two
 * @param version the protocol version, or {@link MqttVersion#AUTO}
 * @param username MQTT user name, if the broker wants one
 * @param password MQTT password, if the broker wants one
 * @param tls TLS options; present turns TLS on for any scheme
 * @param keepAlive keep-alive interval, 1 s to 65535 s
 * @param cleanStart whether the broker drops an earlier session of this client id on connect
 * @param sessionExpiry how long the broker keeps the session after a disconnect (MQTT 5; on 3.1.1
 *     any non-zero value means a persistent session, {@code cleanSession=false})
 * @param will the Last Will, if any
 * @param maxPacketSize the largest packet this client accepts (told to the broker on MQTT 5,
 *     section 3.1.2.11.4; the broker must not send larger ones)
 * @param receiveMaximum QoS 1 and 2 messages the broker may have unacknowledged towards us
 * @param inflightWindow our QoS 1 and 2 publishes unacknowledged at most; the broker's Receive
 *     Maximum lowers it
 * @param publishTimeout how long a publish waits for room in the window before it fails
 * @param backoff delays between connect attempts
 */
public record MqttSettings(
    String serverUri,
    String clientId,
    MqttVersion version,
    Optional<String> username,
    Optional<String> password,
    Optional<TlsOptions> tls,
    Duration keepAlive,
    boolean cleanStart,
    Duration sessionExpiry,
    Optional<Will> will,
    int maxPacketSize,
    int receiveMaximum,
    int inflightWindow,
    Duration publishTimeout,
    Backoff backoff) {

  /** MQTT's largest packet: 268435455 bytes (MQTT 5 section 1.5.5, Variable Byte Integer). */
  public static final int MAX_PACKET_LIMIT = 268_435_455;

  public MqttSettings {
    Objects.requireNonNull(serverUri, "serverUri");
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(keepAlive, "keepAlive");
    Objects.requireNonNull(sessionExpiry, "sessionExpiry");
    Objects.requireNonNull(will, "will");
    Objects.requireNonNull(publishTimeout, "publishTimeout");
    Objects.requireNonNull(backoff, "backoff");
    if (clientId.isEmpty() || clientId.length() > 65_535) {
      throw new IllegalArgumentException(
          "The MQTT client id must have 1 to 65535 characters: got '" + clientId + "'");
    }
    if (keepAlive.toSeconds() < 1 || keepAlive.toSeconds() > 65_535) {
      throw new IllegalArgumentException(
          "keepAlive must be 1 s to 65535 s (MQTT's two-byte field): got " + keepAlive);
    }
    if (sessionExpiry.isNegative() || sessionExpiry.toSeconds() > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException(
          "sessionExpiry must be 0 to 4294967295 s (MQTT 5 section 3.1.2.11.2): got "
              + sessionExpiry);
    }
    if (maxPacketSize < 1 || maxPacketSize > MAX_PACKET_LIMIT) {
      throw new IllegalArgumentException(
          "maxPacketSize must be 1 to " + MAX_PACKET_LIMIT + " bytes: got " + maxPacketSize);
    }
    if (receiveMaximum < 1 || receiveMaximum > 65_535) {
      throw new IllegalArgumentException(
          "receiveMaximum must be 1 to 65535 (MQTT 5 section 3.1.2.11.3): got " + receiveMaximum);
    }
    if (inflightWindow < 1 || inflightWindow > 65_535) {
      throw new IllegalArgumentException(
          "inflightWindow must be 1 to 65535: got " + inflightWindow);
    }
    if (publishTimeout.isNegative() || publishTimeout.isZero()) {
      throw new IllegalArgumentException("publishTimeout must be positive: got " + publishTimeout);
    }
  }

  /**
   * Defaults: MQTT 5, no credentials, TLS only if the URI's scheme asks for it, keep-alive 30 s,
   * clean start without session expiry, no will, packets up to {@link #MAX_PACKET_LIMIT}, receive
   * maximum 32, window 16, publish timeout 10 s, {@link Backoff#DEFAULT}.
   */
  public static Builder builder(String serverUri, String clientId) {
    return new Builder(serverUri, clientId);
  }

  /** Settings with {@link #builder} defaults. */
  public static MqttSettings of(String serverUri, String clientId) {
    return builder(serverUri, clientId).build();
  }

  /** Builds {@link MqttSettings}; not thread-safe. */
  public static final class Builder {
    private final String serverUri;
    private final String clientId;
    private MqttVersion version = MqttVersion.V5;
    private Optional<String> username = Optional.empty();
    private Optional<String> password = Optional.empty();
    private Optional<TlsOptions> tls = Optional.empty();
    private Duration keepAlive = Duration.ofSeconds(30);
    private boolean cleanStart = true;
    private Duration sessionExpiry = Duration.ZERO;
    private Optional<Will> will = Optional.empty();
    private int maxPacketSize = MAX_PACKET_LIMIT;
    private int receiveMaximum = 32;
    private int inflightWindow = 16;
    private Duration publishTimeout = Duration.ofSeconds(10);
    private Backoff backoff = Backoff.DEFAULT;

    private Builder(String serverUri, String clientId) {
      this.serverUri = serverUri;
      this.clientId = clientId;
    }

    public Builder version(MqttVersion v) {
      this.version = v;
      return this;
    }

    public Builder credentials(Optional<String> user, Optional<String> pass) {
      this.username = user;
      this.password = pass;
      return this;
    }

    public Builder tls(TlsOptions t) {
      this.tls = Optional.of(t);
      return this;
    }

    public Builder keepAlive(Duration d) {
      this.keepAlive = d;
      return this;
    }

    /** A session: clean start or not, and how long the broker keeps it after a disconnect. */
    public Builder session(boolean clean, Duration expiry) {
      this.cleanStart = clean;
      this.sessionExpiry = expiry;
      return this;
    }

    public Builder will(Will w) {
      this.will = Optional.of(w);
      return this;
    }

    public Builder maxPacketSize(int bytes) {
      this.maxPacketSize = bytes;
      return this;
    }

    public Builder receiveMaximum(int n) {
      this.receiveMaximum = n;
      return this;
    }

    public Builder inflightWindow(int n) {
      this.inflightWindow = n;
      return this;
    }

    public Builder publishTimeout(Duration d) {
      this.publishTimeout = d;
      return this;
    }

    public Builder backoff(Backoff b) {
      this.backoff = b;
      return this;
    }

    /**
     * @throws IllegalArgumentException naming the value that is out of range
     */
    public MqttSettings build() {
      return new MqttSettings(
          serverUri,
          clientId,
          version,
          username,
          password,
          tls,
          keepAlive,
          cleanStart,
          sessionExpiry,
          will,
          maxPacketSize,
          receiveMaximum,
          inflightWindow,
          publishTimeout,
          backoff);
    }
  }
}
