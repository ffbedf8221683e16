package io.edgeslm.testkit;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Command line for the synthetic model writer:
 *
 * <pre>
 * java -cp edgeslm-testkit.jar io.edgeslm.testkit.GgufWriterMain \
 *     --shape SHAPE --type f32|q8_0|q4_0|q4_k_m [--seed N] OUT.gguf
 * </pre>
 *
 * {@code SHAPE} is one of {@link ModelShape#PRESETS}. Prints progress to standard error and the
 * file size to standard output. Exit status: 0 written, 2 bad arguments, 1 write failed.
 */
public final class GgufWriterMain {
  private GgufWriterMain() {}

  static final String USAGE =
      "Usage: GgufWriterMain --shape SHAPE --type f32|q8_0|q4_0|q4_k_m [--seed N] OUT.gguf\n"
          + "SHAPE: "
          + ModelShape.PRESETS;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs the command; returns the exit status instead of exiting (for tests). */
  static int run(String[] args, PrintStream out, PrintStream err) {
    String shapeName = null;
    String typeName = null;
    long seed = 42;
    String output = null;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--shape" -> shapeName = value(args, ++i, "--shape");
          case "--type" -> typeName = value(args, ++i, "--type");
          case "--seed" -> seed = Long.parseLong(value(args, ++i, "--seed"));
          case "-h", "--help" -> {
            out.println(USAGE);
            return 0;
          }
          default -> {
            if (args[i].startsWith("-") || output != null) {
              throw new IllegalArgumentException("Unexpected argument '" + args[i] + "'.");
            }
            output = args[i];
          }
        }
      }
      if (shapeName == null || typeName == null || output == null) {
        throw new IllegalArgumentException("--shape, --type and an output file are required.");
      }
      SyntheticModel model =
          SyntheticModel.of(ModelShape.preset(shapeName), Quantization.parse(typeName), seed);
      long total = model.tensorDataBytes();
      String label = output;
      long start = System.nanoTime();
      long[] lastPercent = {-1};
      long size =
          model.write(
              Path.of(output),
              done -> {
                long percent = total == 0 ? 100 : done * 100 / total;
                if (percent != lastPercent[0]) {
                  lastPercent[0] = percent;
                  err.print(progressLine(label, done, total));
                }
              });
      double seconds = (System.nanoTime() - start) / 1e9;
      err.println();
      out.printf(
          Locale.ROOT,
          "%s %d bytes in %.1f s (%.0f MB/s)%n",
          output,
          size,
          seconds,
          size / 1e6 / Math.max(seconds, 1e-9));
      return 0;
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(USAGE);
      return 2;
    } catch (IOException e) {
      err.println("Writing '" + output + "' failed: " + e + ". Check the path and free space.");
      return 1;
    }
  }

  /**
   * "\rOUT: 12.3 / 698.0 MB (1%)". Megabytes with one decimal, so that a model of a few MB does not
   * read "0 / 0" while its percentage moves.
   */
  static String progressLine(String label, long done, long total) {
    long percent = total == 0 ? 100 : done * 100 / total;
    return String.format(
        Locale.ROOT, "\r%s: %.1f / %.1f MB (%d%%)", label, done / 1e6, total / 1e6, percent);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value.");
    }
    return args[i];
  }
}
