package io.edgeslm.agent.update;

import io.edgeslm.agent.internal.update.ModelRuntime;
import io.edgeslm.agent.internal.update.UpdateException;
import io.edgeslm.protocol.ReasonCode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A model runtime for transfer and side-load tests that checks what it is asked to load (a GGUF
 * magic) and records every load, without starting llama.cpp (the activation gate test uses the real
 * {@code SchedulerRuntime}).
 */
public final class RecordingRuntime implements ModelRuntime {

  private final List<Path> loads = new ArrayList<>();
  private Path serving;

  @Override
  public synchronized OptionalDouble activate(Path gguf, Optional<Path> evaluationFile)
      throws UpdateException {
    loads.add(gguf);
    byte[] magic = new byte[4];
    try (InputStream in = Files.newInputStream(gguf)) {
      if (in.readNBytes(magic, 0, 4) != 4 || !"GGUF".equals(new String(magic))) {
        throw new UpdateException(
            UpdateException.Fault.MODEL,
            ReasonCode.MODEL_LOAD_FAILED,
            gguf + " is not a GGUF file");
      }
    } catch (IOException e) {
      throw new UpdateException(
          UpdateException.Fault.MODEL, ReasonCode.MODEL_LOAD_FAILED, e.toString(), e);
    }
    serving = gguf;
    return OptionalDouble.empty();
  }

  @Override
  public synchronized void unload() {
    serving = null;
  }

  @Override
  public synchronized Sample sample() {
    return new Sample(serving != null, 0, 0, 0, 0);
  }

  public synchronized List<Path> loads() {
    return List.copyOf(loads);
  }

  public synchronized Path serving() {
    return serving;
  }

  @Override
  public void close() {}
}
