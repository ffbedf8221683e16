package io.edgeslm.fleet.internal.app;

import io.edgeslm.signing.TrustStore;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the controller core needs besides its database.
 *
 * @param mqttUri broker URI
 * @param clientId this replica's MQTT client id
 * @param mqttUsername optional
 * @param mqttPassword optional
 * @param shareGroup shared-subscription group of the replicas
 * @param bundlesDir where bundle files live
 * @param chunkBytes chunk size of new bundles
 * @param chunkBytesPerSecond global bandwidth of the chunk server
 * @param trust the trust store uploads are verified against
 * @param tickInterval how often rollouts are stepped
 * @param healthRetention how long health history is kept
 * @param healthQueue health messages waiting to be written
 * @param healthBatch health messages per transaction
 * @param outboxLease how long a claimed outbox row is left to its claimer
 * @param healthDetailRetention how long 5-minute health buckets are kept ({@code healthRetention}
 *     is for the hourly ones)
 * @param healthMaintenance how often closed hours are rolled up into the hourly health tier and
 *     expired health partitions are dropped
 * @param healthWriters threads writing registry messages, each with its own transactions (a node's
 *     messages always go to the same one)
 */
public record ControllerSettings(
    String mqttUri,
    String clientId,
    String mqttUsername,
    String mqttPassword,
    String shareGroup,
    Path bundlesDir,
    int chunkBytes,
    long chunkBytesPerSecond,
    TrustStore trust,
    Duration tickInterval,
    Duration healthRetention,
    int healthQueue,
    int healthBatch,
    Duration outboxLease,
    Duration healthDetailRetention,
    Duration healthMaintenance,
    int healthWriters) {

  /** Writer threads unless configured: two, so one prepares a batch while the other commits. */
  public static final int DEFAULT_HEALTH_WRITERS = 2;

  /** Settings with {@link #DEFAULT_HEALTH_WRITERS} writer threads. */
  public ControllerSettings(
      String mqttUri,
      String clientId,
      String mqttUsername,
      String mqttPassword,
      String shareGroup,
      Path bundlesDir,
      int chunkBytes,
      long chunkBytesPerSecond,
      TrustStore trust,
      Duration tickInterval,
      Duration healthRetention,
      int healthQueue,
      int healthBatch,
      Duration outboxLease,
      Duration healthDetailRetention,
      Duration healthMaintenance) {
    this(
        mqttUri,
        clientId,
        mqttUsername,
        mqttPassword,
        shareGroup,
        bundlesDir,
        chunkBytes,
        chunkBytesPerSecond,
        trust,
        tickInterval,
        healthRetention,
        healthQueue,
        healthBatch,
        outboxLease,
        healthDetailRetention,
        healthMaintenance,
        DEFAULT_HEALTH_WRITERS);
  }

  /** Settings with the default detail retention (P1D) and maintenance interval (PT1M). */
  public ControllerSettings(
      String mqttUri,
      String clientId,
      String mqttUsername,
      String mqttPassword,
      String shareGroup,
      Path bundlesDir,
      int chunkBytes,
      long chunkBytesPerSecond,
      TrustStore trust,
      Duration tickInterval,
      Duration healthRetention,
      int healthQueue,
      int healthBatch,
      Duration outboxLease) {
    this(
        mqttUri,
        clientId,
        mqttUsername,
        mqttPassword,
        shareGroup,
        bundlesDir,
        chunkBytes,
        chunkBytesPerSecond,
        trust,
        tickInterval,
        healthRetention,
        healthQueue,
        healthBatch,
        outboxLease,
        Duration.ofDays(1),
        Duration.ofMinutes(1));
  }

  /** Settings with the default outbox lease of 60 s. */
  public ControllerSettings(
      String mqttUri,
      String clientId,
      String mqttUsername,
      String mqttPassword,
      String shareGroup,
      Path bundlesDir,
      int chunkBytes,
      long chunkBytesPerSecond,
      TrustStore trust,
      Duration tickInterval,
      Duration healthRetention,
      int healthQueue,
      int healthBatch) {
    this(
        mqttUri,
        clientId,
        mqttUsername,
        mqttPassword,
        shareGroup,
        bundlesDir,
        chunkBytes,
        chunkBytesPerSecond,
        trust,
        tickInterval,
        healthRetention,
        healthQueue,
        healthBatch,
        Duration.ofSeconds(60));
  }
}
