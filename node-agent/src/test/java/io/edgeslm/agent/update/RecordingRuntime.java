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
  private final List<OptionalDouble> recordedScores = new ArrayList<>();
  private Path serving;
  private OptionalDouble checkScore = OptionalDouble.empty();
  private OptionalDouble reportedScore = OptionalDouble.empty();
  private long workerRestarts;

  /** A runtime whose activation checks score {@code score} (when the bundle has a check). */
  public static RecordingRuntime scoring(double score) {
    RecordingRuntime r = new RecordingRuntime();
    r.checkScore = OptionalDouble.of(score);
    return r;
  }

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
    reportedScore = evaluationFile.isPresent() ? checkScore : OptionalDouble.empty();
    return reportedScore;
  }

  @Override
  public synchronized void serve(
      io.edgeslm.protocol.ModelRef model, Path gguf, OptionalDouble recordedScore)
      throws UpdateException {
    activate(gguf, Optional.empty());
    recordedScores.add(recordedScore);
    reportedScore = recordedScore;
  }

  /** The scores handed to {@link #serve}, in order (what the store recorded for each model). */
  public synchronized List<OptionalDouble> recordedScores() {
    return List.copyOf(recordedScores);
  }

  /** The activation score the runtime reports now (health's {@code activationScore}). */
  public synchronized OptionalDouble reportedScore() {
    return reportedScore;
  }

  @Override
  public synchronized void unload() {
    serving = null;
    reportedScore = OptionalDouble.empty();
  }

  @Override
  public synchronized Sample sample() {
    return new Sample(serving != null, workerRestarts, 0, 0, 0);
  }

  /** The serving worker crashes (and restarts): health samples count one more restart. */
  public synchronized void crashWorker() {
    workerRestarts++;
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
