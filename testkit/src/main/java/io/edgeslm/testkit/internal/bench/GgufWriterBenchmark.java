package io.edgeslm.testkit.internal.bench;

import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.SyntheticModel;
import io.edgeslm.testkit.internal.gguf.GgufFileWriter;
import io.edgeslm.testkit.internal.gguf.ModelLayout;
import io.edgeslm.testkit.internal.vocab.SyntheticVocabulary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * How fast the synthetic writer produces a model, as a ratio against writing the same number of
 * bytes from a ready buffer to the same directory in the same run (the disk's and page cache's
 * speed), plus generation alone (a channel that discards). Each case runs 3 times; the median
 * counts.
 *
 * <pre>
 * java -cp testkit/target/edgeslm-testkit-*.jar \
 *     io.edgeslm.testkit.internal.bench.GgufWriterBenchmark [shape] [type] [dir]
 * </pre>
 */
public final class GgufWriterBenchmark {
  private static final int RUNS = 3;

  private GgufWriterBenchmark() {}

  public static void main(String[] args) throws IOException {
    ModelShape shape = ModelShape.preset(args.length > 0 ? args[0] : "llama-3.2-1b");
    Quantization type = Quantization.parse(args.length > 1 ? args[1] : "q4_0");
    Path dir = Files.createDirectories(Path.of(args.length > 2 ? args[2] : "target/bench"));
    SyntheticModel model = SyntheticModel.of(shape, type, 1);
    Path file = dir.resolve(model.suggestedFileName());
    long bytes = model.write(file, done -> {});

    double[] baseline = new double[RUNS];
    double[] writer = new double[RUNS];
    double[] generateOnly = new double[RUNS];
    for (int i = 0; i < RUNS; i++) {
      baseline[i] = timeRawWrite(dir.resolve("baseline.bin"), bytes);
      long t0 = System.nanoTime();
      model.write(file, done -> {});
      writer[i] = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      GgufFileWriter.writeTo(
          new Discard(),
          ModelLayout.metadata(
              shape, type, 1, SyntheticVocabulary.of(shape.vocabSize(), shape.chatTemplate())),
          ModelLayout.tensors(shape, type),
          1,
          done -> {});
      generateOnly[i] = (System.nanoTime() - t0) / 1e9;
    }
    Files.deleteIfExists(file);
    Files.deleteIfExists(dir.resolve("baseline.bin"));
    double b = median(baseline);
    double w = median(writer);
    double g = median(generateOnly);
    System.out.printf(
        Locale.ROOT,
        "shape=%s type=%s bytes=%d cores=%d%n"
            + "baseline raw write : %6.2f s  %6.0f MB/s%n"
            + "synthetic writer   : %6.2f s  %6.0f MB/s  ratio writer/baseline = %.2f%n"
            + "generation only    : %6.2f s  %6.0f MB/s  ratio generation/baseline = %.2f%n",
        shape.name(),
        type.cliName(),
        bytes,
        Runtime.getRuntime().availableProcessors(),
        b,
        bytes / 1e6 / b,
        w,
        bytes / 1e6 / w,
        w / b,
        g,
        bytes / 1e6 / g,
        g / b);
  }

  private static double timeRawWrite(Path file, long bytes) throws IOException {
    ByteBuffer block = ByteBuffer.allocateDirect(4 << 20);
    long t0 = System.nanoTime();
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      long left = bytes;
      while (left > 0) {
        block.clear().limit((int) Math.min(block.capacity(), left));
        while (block.hasRemaining()) {
          left -= ch.write(block);
        }
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  /** Accepts and drops every byte. */
  private static final class Discard implements WritableByteChannel {
    @Override
    public int write(ByteBuffer src) {
      int n = src.remaining();
      src.position(src.limit());
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
