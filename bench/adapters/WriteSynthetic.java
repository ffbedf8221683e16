import io.edgeslm.testkit.ModelShape;
import io.edgeslm.testkit.Quantization;
import io.edgeslm.testkit.SyntheticLoraAdapter;
import io.edgeslm.testkit.SyntheticModel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the adapter benchmark's files into a directory, unless present: two bases of the same
 * shape (seeds 1 and 2) and two rank-8 adapters for the first.
 *
 * <p>Usage: {@code java -cp testkit/target/classes bench/adapters/WriteSynthetic.java SHAPE TYPE DIR}
 */
public class WriteSynthetic {
  public static void main(String[] args) throws Exception {
    ModelShape shape = ModelShape.preset(args[0]);
    Quantization q = Quantization.parse(args[1]);
    Path dir = Path.of(args[2]);
    SyntheticModel a = SyntheticModel.of(shape, q, 1);
    SyntheticModel b = SyntheticModel.of(shape, q, 2);
    write(a, dir.resolve(a.suggestedFileName()));
    write(b, dir.resolve(b.suggestedFileName()));
    for (long seed : new long[] {7, 8}) {
      SyntheticLoraAdapter lora = SyntheticLoraAdapter.of(a, seed);
      Path f = dir.resolve(lora.suggestedFileName());
      if (!Files.exists(f)) {
        lora.write(f);
      }
      System.out.println(f);
    }
  }

  private static void write(SyntheticModel m, Path f) throws Exception {
    if (!Files.exists(f)) {
      m.write(f);
    }
    System.out.println(f);
  }
}
