package io.edgeslm.inference.internal.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.inference.EngineConfig;
import io.edgeslm.inference.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryPlannerTest {
  static final long MIB = 1024 * 1024;

  @Test
  void decide_plentyOfMemory_sideBySide_tightMemory_stopFirst() {
    ModelSpec spec = ModelSpec.of(Path.of("/m.gguf"), 2, 4096);
    EngineConfig.WorkerBackend w = EngineConfig.WorkerBackend.defaults();
    long model = 700 * MIB;

    var roomy = MemoryPlanner.decide(w, spec, 8192 * MIB, model);
    var tight = MemoryPlanner.decide(w, spec, 1200 * MIB, model);

    // 700 MiB model + 128 MiB KV (4096 x 32 KiB) + 256 MiB heap + 64 MiB = 1148 MiB.
    assertThat(roomy.needBytes()).isEqualTo(1148 * MIB);
    assertThat(roomy.sideBySide()).isTrue();
    assertThat(tight.sideBySide()).isFalse();
    assertThat(tight.reason()).contains("1377 MiB with a 20% margin; 1200 MiB available");
  }

  @Test
  void availableBytes_readsMemAvailable(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("meminfo");
    Files.writeString(f, "MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable:   2048 kB\n");
    assertThat(MemoryPlanner.availableBytes(f)).isEqualTo(2048 * 1024);
    assertThat(MemoryPlanner.availableBytes(dir.resolve("none"))).isEqualTo(-1);
  }
}
