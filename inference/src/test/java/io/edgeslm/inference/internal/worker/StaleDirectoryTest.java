package io.edgeslm.inference.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StaleDirectoryTest {

  @Test
  void sweepStale_removesDirectoriesOfDeadHosts_keepsLiveAndForeignOnes(@TempDir Path base)
      throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Path dead = Files.createDirectories(base.resolve("edgeslm-worker-1/native"));
    Files.writeString(dead.getParent().resolve("host.pid"), Long.toString(gone.pid()));
    Path live = Files.createDirectories(base.resolve("edgeslm-worker-2"));
    Files.writeString(live.resolve("host.pid"), Long.toString(ProcessHandle.current().pid()));
    Path noOwner = Files.createDirectories(base.resolve("edgeslm-worker-3"));
    Path foreign = Files.createDirectories(base.resolve("something-else"));

    WorkerProcess.sweepStale(base);

    assertThat(dead.getParent()).doesNotExist();
    assertThat(live).exists();
    assertThat(noOwner).exists();
    assertThat(foreign).exists();
  }
}
