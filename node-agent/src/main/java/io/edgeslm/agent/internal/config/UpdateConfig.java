package io.edgeslm.agent.internal.config;

import io.edgeslm.inference.SwapMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The checked {@code edgeslm.agent.updates.*} keys, present only when updates are on.
 *
 * @param dataDir model store, staging and update journal
 * @param trustStore a signed trust root file, or empty when keys are pinned
 * @param pinnedKeys PEM public key files, empty when a trust store is used
 * @param model the model this node follows (edgeslm.agent.model.name)
 * @param channel the channel it follows
 * @param usbWatchDir the USB mount directory, if side-loading is on
 * @param usbPollInterval how often the mount is looked at
 * @param usbTimeout how long one side-loaded bundle may take
 * @param soak soak period
 * @param soakSample interval between soak samples
 * @param soakMaxNotReady consecutive not-ready samples that fail the soak
 * @param soakMaxErrorRate error-rate limit during the soak
 * @param soakMinRequests requests before rate and speed are judged
 * @param soakMinSpeedRatio slowest acceptable tokens/s relative to the previous model
 * @param diskMarginBytes free space kept beyond twice the bundle
 * @param swapMode how the inference scheduler swaps models
 */
public record UpdateConfig(
    Path dataDir,
    Optional<Path> trustStore,
    List<Path> pinnedKeys,
    String model,
    String channel,
    Optional<Path> usbWatchDir,
    Duration usbPollInterval,
    Duration usbTimeout,
    Duration soak,
    Duration soakSample,
    int soakMaxNotReady,
    double soakMaxErrorRate,
    long soakMinRequests,
    double soakMinSpeedRatio,
    long diskMarginBytes,
    SwapMode swapMode) {

  public UpdateConfig {
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(trustStore, "trustStore");
    pinnedKeys = List.copyOf(pinnedKeys);
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(usbWatchDir, "usbWatchDir");
    Objects.requireNonNull(usbPollInterval, "usbPollInterval");
    Objects.requireNonNull(usbTimeout, "usbTimeout");
    Objects.requireNonNull(soak, "soak");
    Objects.requireNonNull(soakSample, "soakSample");
    Objects.requireNonNull(swapMode, "swapMode");
  }
}
