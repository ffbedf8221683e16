package io.edgeslm.inference;

import io.edgeslm.testkit.GgmlType;
import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.SyntheticModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Synthetic models written once per test JVM under target/test-models. */
final class TestModels {
  private static final Path DIR = Path.of("target", "test-models").toAbsolutePath();

  private TestModels() {}

  /** The test kit's tiny Llama-shaped model in Q8_0 (a few MB), seed 42. */
  static Path tiny() {
    return tiny(42);
  }

  /** The tiny model with another seed: a different file, for swap tests. */
  static synchronized Path tiny(long seed) {
    SyntheticModel m = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q8_0, seed);
    Path file = DIR.resolve(m.suggestedFileName());
    try {
      if (!Files.exists(file)) {
        m.write(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  static ModelSpec tinySpec() {
    return ModelSpec.of(tiny(), 2, 1024);
  }

  /** Worker settings for tests: short backoff, default hang bounds. */
  static EngineConfig.WorkerBackend worker() {
    return EngineConfig.WorkerBackend.defaults()
        .withRestartBackoff(Duration.ofMillis(200), Duration.ofSeconds(2), 10)
        .withWorkDirectoryBase(Path.of("/tmp"));
  }
}
