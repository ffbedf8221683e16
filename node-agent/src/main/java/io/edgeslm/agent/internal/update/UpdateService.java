package io.edgeslm.agent.internal.update;

import io.edgeslm.agent.AgentConfigException;
import io.edgeslm.agent.internal.config.UpdateConfig;
import io.edgeslm.agent.internal.store.ModelStore;
import io.edgeslm.agent.internal.store.StoredModel;
import io.edgeslm.agent.internal.store.UpdateJournal;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The update side of a running agent, in the order the agent needs it: {@link #open} opens the
 * model store (recovering from any interrupted write), the update journal and the trust store, so
 * the agent can decide what to serve; {@link #start} then connects the update link, starts the
 * {@link UpdateEngine} on the agent's own serving stack (which activates the store's model),
 * imports a configured bundle the first time, and starts the USB watcher.
 */
public final class UpdateService implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(UpdateService.class.getName());

  private final UpdateConfig config;
  private final ModelStore store;
  private final UpdateJournal journal;
  private final TrustStore trust;
  private final NodeProfile profile;
  private final NodeTopics topics;
  private final Clock clock;
  private final ScheduledExecutorService threads =
      Executors.newScheduledThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "agent-updates");
            t.setDaemon(true);
            return t;
          });
  private volatile UpdateLink link;
  private volatile UpdateEngine engine;
  private volatile UsbSideLoader usb;
  private volatile String seedOutcome;
  private volatile ModelRuntime runtime;

  private UpdateService(
      UpdateConfig config,
      ModelStore store,
      UpdateJournal journal,
      TrustStore trust,
      NodeProfile profile,
      NodeTopics topics,
      Clock clock) {
    this.config = config;
    this.store = store;
    this.journal = journal;
    this.trust = trust;
    this.profile = profile;
    this.topics = topics;
    this.clock = clock;
  }

  /**
   * Opens the store, the journal and the trust store.
   *
   * @param facts the node's identity and target facts (its channel map follows {@code config})
   * @throws AgentConfigException when the data directory cannot be used or the trust store or a
   *     pinned key does not load (the agent exits with 78)
   */
  public static UpdateService open(
      UpdateConfig config, NodeProfile facts, NodeTopics topics, Clock clock)
      throws AgentConfigException {
    TrustStore trust = trust(config);
    ModelStore store;
    UpdateJournal journal;
    try {
      store = ModelStore.open(config.dataDir());
      journal = UpdateJournal.open(config.dataDir().resolve("journal"));
    } catch (IOException | RuntimeException e) {
      throw new AgentConfigException(
          "edgeslm.agent.updates.data-dir",
          "Cannot open the model store in "
              + config.dataDir()
              + ": "
              + e.getMessage()
              + ". Create the directory with write access for the agent's user (on the file"
              + " system that should hold the models), or set edgeslm.agent.updates.data-dir.",
          e);
    }
    for (String note : store.recoveryNotes()) {
      LOG.info("Model store recovery: " + note);
    }
    NodeProfile profile =
        new NodeProfile(
            facts.nodeId(),
            facts.architecture(),
            facts.deviceClass(),
            facts.ramMb(),
            facts.labels(),
            facts.agentVersion(),
            Map.of(config.model(), config.channel()));
    return new UpdateService(config, store, journal, trust, profile, topics, clock);
  }

  private static TrustStore trust(UpdateConfig config) throws AgentConfigException {
    if (config.trustStore().isPresent()) {
      Path file = config.trustStore().get();
      try {
        return TrustStore.load(file);
      } catch (SigningException e) {
        throw new AgentConfigException(
            "edgeslm.agent.updates.trust-store",
            "Cannot load the trust store "
                + file
                + ": "
                + e.getMessage()
                + " Install the signed trust root from your release managers (model-signing trust"
                + " init), or set edgeslm.agent.updates.trust-store.",
            e);
      }
    }
    List<VerificationKey> keys = new ArrayList<>();
    for (Path p : config.pinnedKeys()) {
      try {
        keys.add(VerificationKey.read(p));
      } catch (SigningException e) {
        throw new AgentConfigException(
            "edgeslm.agent.updates.pinned-keys",
            "Cannot read the pinned release key "
                + p
                + ": "
                + e.getMessage()
                + " Give the PEM public key of a release manager (model-signing keygen).",
            e);
      }
    }
    return TrustStore.pinned(keys);
  }

  /** The architecture name release targets use ({@code x86_64}, {@code aarch64}). */
  public static String architecture() {
    String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
    return switch (arch) {
      case "amd64", "x86-64", "x64" -> "x86_64";
      case "arm64" -> "aarch64";
      default -> arch;
    };
  }

  public ModelStore store() {
    return store;
  }

  /** The model the store names as active (verified), if any. */
  public Optional<StoredModel> active() {
    return store.active();
  }

  /** The running engine, once started. */
  public Optional<UpdateEngine> engine() {
    return Optional.ofNullable(engine);
  }

  /**
   * A stored model that failed its re-check at boot and is not served, for the agent's health and
   * status (starts with the reason code, e.g. {@code tampered: …}); empty when the store is sound.
   */
  public Optional<String> servingProblem() {
    return engine().flatMap(UpdateEngine::servingProblem);
  }

  /** What happened to the configured seed bundle, if one was imported. */
  public Optional<String> seedOutcome() {
    return Optional.ofNullable(seedOutcome);
  }

  /** Whether {@code path} is a signed bundle directory (it holds {@code model.sig}). */
  public static boolean isBundle(Path path) {
    return Files.isDirectory(path)
        && Files.isRegularFile(path.resolve(UsbSideLoader.SIGNATURE), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Connects the update link and starts the engine on {@code runtime} (the agent's serving stack):
   * it activates the store's active model, subscribes to assignments, chunks, commands and journal
   * acknowledgements, and replays the journal after every connect. When the store has no active
   * model and {@code seed} is a bundle directory, it is copied into staging, verified and activated
   * like a side-loaded bundle. Then the USB watcher starts, if configured.
   *
   * @param updateLink the MQTT link for assignments, chunks, commands and the journal (connecting
   *     in the background); closed by {@link #close}
   * @throws AgentConfigException when the engine cannot start on the data directory
   */
  public void start(ModelRuntime runtime, UpdateLink updateLink, Optional<Path> seed)
      throws AgentConfigException {
    this.runtime = runtime;
    this.link = updateLink;
    try {
      UpdateSettings settings =
          new UpdateSettings(
              config.soak(),
              config.soakSample(),
              config.diskMarginBytes(),
              ChunkDownloader.Tuning.defaults(),
              new SoakJudge.Limits(
                  config.soakMaxNotReady(),
                  config.soakMaxErrorRate(),
                  config.soakMinRequests(),
                  config.soakMinSpeedRatio()));
      engine =
          new UpdateEngine(
              store,
              journal,
              new BundleGate(trust, profile),
              runtime,
              link,
              profile,
              topics,
              settings,
              clock);
      engine.start();
    } catch (IOException | RuntimeException e) {
      throw new AgentConfigException(
          "edgeslm.agent.updates.data-dir",
          "Cannot start the update engine: "
              + e.getMessage()
              + ". Check the data directory "
              + config.dataDir()
              + ".",
          e);
    }
    if (seed.isPresent() && isBundle(seed.get())) {
      UpdateEngine started = engine;
      threads.execute(() -> seedIfEmpty(started, seed.get()));
    }
    if (config.usbWatchDir().isPresent()) {
      usb =
          new UsbSideLoader(
              config.usbWatchDir().get(),
              engine,
              store,
              profile.nodeId(),
              clock,
              config.usbTimeout().toMillis());
      long every = config.usbPollInterval().toMillis();
      threads.scheduleWithFixedDelay(this::scanUsb, every, every, TimeUnit.MILLISECONDS);
    }
  }

  private void scanUsb() {
    try {
      for (UsbSideLoader.BundleOutcome o : usb.scan()) {
        LOG.info(
            "USB bundle '"
                + o.bundle()
                + "': "
                + o.outcome()
                + (o.reasonCode() == null ? "" : " (" + o.reasonCode() + ": " + o.reason() + ")"));
      }
    } catch (RuntimeException e) {
      // The watcher must outlive one bad stick: log and look again at the next poll.
      LOG.log(Level.WARNING, "USB scan failed", e);
    }
  }

  /**
   * Imports the seed when the store has no model to serve once the engine's boot is decided: the
   * boot re-check runs on the engine's thread and may drop every stored model (a corrupted file, a
   * revoked signer), so the store is looked at only after it.
   */
  private void seedIfEmpty(UpdateEngine started, Path bundle) {
    try {
      started.awaitIdle(config.usbTimeout().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      LOG.warning(
          "The boot of the model store did not finish within "
              + config.usbTimeout().toSeconds()
              + " s; deciding on the configured bundle "
              + bundle
              + " with the store as it is now.");
    }
    if (store.active().isEmpty()) {
      importSeed(bundle);
    }
  }

  /**
   * The operator configured a signed bundle as the model and the store has none: import it once,
   * through the same gate as any update (the operator's directory is copied, never moved).
   */
  private void importSeed(Path bundle) {
    String id = "seed-" + clock.millis();
    try {
      Path staged = store.stagingDir(id).resolve("bundle");
      UsbSideLoader.copyBundle(bundle, staged, store);
      StoredModel m =
          engine
              .installFromDirectory(id, staged)
              .get(config.usbTimeout().toMillis(), TimeUnit.MILLISECONDS);
      seedOutcome = "activated " + m.describe();
      LOG.info("Imported the configured bundle " + bundle + ": " + m.describe());
    } catch (ExecutionException e) {
      seedOutcome = "refused: " + e.getCause().getMessage();
      LOG.severe(
          "The configured bundle "
              + bundle
              + " was not installed: "
              + e.getCause().getMessage()
              + " Answering with the rules until a verified model arrives.");
      discard(id);
      noModel();
    } catch (UpdateException | IOException e) {
      seedOutcome = "refused: " + e.getMessage();
      LOG.severe("The configured bundle " + bundle + " cannot be copied: " + e.getMessage());
      discard(id);
      noModel();
    } catch (TimeoutException e) {
      seedOutcome = "still installing";
      LOG.warning(
          "Importing the configured bundle " + bundle + " is taking long; see the journal.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Nothing verified to serve: the rules answer (and readiness stops waiting for a model). */
  private void noModel() {
    if (store.active().isEmpty()) {
      runtime.unload();
    }
  }

  private void discard(String id) {
    try {
      store.discardStaging(id);
    } catch (IOException e) {
      LOG.warning("Cannot clean staging " + id + ": " + e.getMessage());
    }
  }

  /** Stops the watcher, the engine and the link, and closes the journal. Safe to call twice. */
  @Override
  public void close() {
    threads.shutdownNow();
    try {
      threads.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    UpdateEngine e = engine;
    engine = null;
    if (e != null) {
      e.close();
    }
    UpdateLink l = link;
    link = null;
    if (l != null) {
      l.close();
    }
    try {
      journal.close();
    } catch (IOException | RuntimeException ex) {
      LOG.warning("Closing the update journal: " + ex.getMessage());
    }
  }
}
