package io.edgeslm.agent.update;

import io.edgeslm.agent.internal.update.ModelRuntime;
import io.edgeslm.agent.internal.update.UpdateException;
import io.edgeslm.agent.internal.update.UpdateSettings;
import io.edgeslm.protocol.ReasonCode;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The update engine alone in a process, for {@link PowerLossIT} to kill with SIGKILL: {@code
 * BROKER_URL NODE_ID DATA_DIR PUBLIC_KEY_PEM}. Every model load is appended (and forced) to {@code
 * DATA_DIR/../loads.log} before it happens, so the test sees what was ever loaded.
 */
public final class UpdateNodeMain {

  private UpdateNodeMain() {}

  public static void main(String[] args) throws Exception {
    Path data = Path.of(args[2]);
    TrustStore trust = TrustStore.pinned(List.of(VerificationKey.read(Path.of(args[3]))));
    Path log = data.toAbsolutePath().getParent().resolve("loads.log");
    UpdateSettings settings =
        UpdateSettings.defaults()
            .withSoak(Duration.ofMillis(400), Duration.ofMillis(100))
            .withDiskMargin(0);
    try (TestNode node =
        new TestNode(args[0], args[1], data, trust, new LoggingRuntime(log), settings)) {
      System.out.println("ready");
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  /** Checks the GGUF magic like a worker would, and logs each load durably first. */
  static final class LoggingRuntime implements ModelRuntime {
    private final Path log;
    private final RecordingRuntime inner = new RecordingRuntime();

    LoggingRuntime(Path log) {
      this.log = log;
    }

    @Override
    public OptionalDouble activate(Path gguf, Optional<Path> evaluationFile)
        throws UpdateException {
      try (FileChannel ch =
          FileChannel.open(
              log,
              StandardOpenOption.CREATE,
              StandardOpenOption.APPEND,
              StandardOpenOption.WRITE)) {
        ch.write(
            java.nio.ByteBuffer.wrap(
                (gguf.toAbsolutePath() + "\n").getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      } catch (IOException e) {
        throw new UpdateException(
            UpdateException.Fault.LOCAL, ReasonCode.STORAGE_FAILED, e.toString(), e);
      }
      return inner.activate(gguf, evaluationFile);
    }

    @Override
    public void unload() {
      inner.unload();
    }

    @Override
    public Sample sample() {
      return inner.sample();
    }

    @Override
    public void close() {}
  }
}
