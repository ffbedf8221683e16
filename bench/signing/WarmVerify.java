import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import java.nio.file.Path;
import java.util.List;

/**
 * Verifies one bundle several times in one JVM and prints each duration: the cost a long-running
 * node agent pays once its JIT has compiled the hashing path. Run with the CLI jar on the class
 * path: java -Xmx64m -cp model-signing.jar bench/signing/WarmVerify.java DIR PUBKEY TIMES
 */
public class WarmVerify {
  public static void main(String[] args) throws Exception {
    BundleVerifier verifier =
        BundleVerifier.of(TrustStore.pinned(List.of(VerificationKey.read(Path.of(args[1])))));
    int times = Integer.parseInt(args[2]);
    for (int i = 0; i < times; i++) {
      long t0 = System.nanoTime();
      verifier.verify(Path.of(args[0]), BundleOptions.defaults());
      System.out.printf("verify %d %.3f%n", i + 1, (System.nanoTime() - t0) / 1e9);
    }
  }
}
