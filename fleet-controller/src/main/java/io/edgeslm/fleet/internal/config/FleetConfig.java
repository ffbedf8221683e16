package io.edgeslm.fleet.internal.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The controller's configuration, {@code fleet.*} (see docs/fleet-controller.md). */
@ConfigMapping(prefix = "fleet")
public interface FleetConfig {

  /** Which datasource holds the fleet: {@code h2} (the embedded default) or {@code postgresql}. */
  @WithDefault("h2")
  String database();

  Mqtt mqtt();

  Bundles bundles();

  Trust trust();

  Rollouts rollouts();

  Health health();

  Auth auth();

  interface Mqtt {
    /** Broker URI, {@code tcp://host:1883} or {@code ssl://host:8883}. */
    @WithDefault("tcp://127.0.0.1:1883")
    String uri();

    /** This replica's client id; unique per replica. */
    @WithDefault("fleet-controller-1")
    String clientId();

    Optional<String> username();

    Optional<String> password();

    /** Shared-subscription group of the replicas. */
    @WithDefault("fleet")
    String shareGroup();
  }

  interface Bundles {
    /** Bundle store directory (shared between replicas). */
    @WithDefault("data/bundles")
    String dir();

    /** Chunk size of new bundles, bytes. */
    @WithDefault("262144")
    int chunkBytes();

    /** Global chunk-server bandwidth, bytes per second. */
    @WithDefault("52428800")
    long bytesPerSecond();
  }

  interface Trust {
    /** A signed trust root (model-signing's trust store). */
    Optional<String> root();

    /** PEM public keys trusted as release keys when no root is configured. */
    Optional<List<String>> keys();
  }

  interface Rollouts {
    /** How often rollouts are stepped. */
    @WithDefault("PT5S")
    Duration tick();

    /**
     * How long a replica may take to publish the messages of a step it stored before another
     * replica publishes them from the outbox.
     */
    @WithDefault("PT60S")
    Duration outboxLease();
  }

  interface Health {
    /** How long hourly health history is kept. */
    @WithDefault("P7D")
    Duration retention();

    /** How long 5-minute health history (the 24 h chart, the gates) is kept; at least P1D. */
    @WithDefault("P1D")
    Duration detailRetention();

    /** How often closed hours are rolled up into hourly health and expired partitions dropped. */
    @WithDefault("PT1M")
    Duration maintenance();

    /** Health messages waiting to be written before new ones are dropped. */
    @WithDefault("200000")
    int queue();

    /** Health messages per write transaction. */
    @WithDefault("1000")
    int batch();

    /**
     * Threads writing registry messages, each with its own transactions; a node's messages always
     * go to the same one.
     */
    @WithDefault("2")
    int writers();
  }

  interface Auth {
    /**
     * A bearer secret stored (hashed) as the token {@code bootstrap-admin} with the admin role at
     * start, so that a new installation can create the real tokens.
     */
    Optional<String> bootstrapAdminToken();
  }
}
