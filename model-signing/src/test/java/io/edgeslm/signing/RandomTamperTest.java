package io.edgeslm.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Property: for random small model directories, sign then verify succeeds, and flipping any one
 * random bit of any one file makes verification fail. Seeds are fixed so failures reproduce; the
 * seed is in the failure description.
 */
class RandomTamperTest {
  private static final int CASES = 40;

  @TempDir Path tmp;

  @Test
  void signThenVerify_succeeds_andAnySingleFlippedByteFails() throws Exception {
    for (int c = 0; c < CASES; c++) {
      long seed = 0x5EED_0000L + c;
      Random rnd = new Random(seed);
      KeyCurve curve = rnd.nextBoolean() ? KeyCurve.P256 : KeyCurve.P384;
      SigningKey key = SigningKey.generate(curve);
      BundleVerifier verifier =
          BundleVerifier.of(TrustStore.pinned(List.of(key.verificationKey())));
      Path dir = tmp.resolve("case-" + c);
      List<Path> files = new ArrayList<>();
      int n = 1 + rnd.nextInt(6);
      for (int i = 0; i < n; i++) {
        String name = (rnd.nextInt(3) == 0 ? "sub" + rnd.nextInt(2) + "/" : "") + "f" + i + ".bin";
        byte[] content = new byte[rnd.nextInt(5000) + 1];
        rnd.nextBytes(content);
        files.add(TestBundles.write(dir, name, content));
      }

      BundleSigner.of(key).sign(dir, BundleOptions.defaults());
      assertThat(verifier.verify(dir, BundleOptions.defaults()).files())
          .as("seed %d", seed)
          .hasSize(n);

      Path victim = files.get(rnd.nextInt(files.size()));
      int pos = rnd.nextInt((int) Files.size(victim));
      int mask = 1 << rnd.nextInt(8);
      TestBundles.xorByte(victim, pos, mask);
      assertThatThrownBy(() -> verifier.verify(dir, BundleOptions.defaults()))
          .as("seed %d: %s byte %d", seed, victim.getFileName(), pos)
          .isInstanceOf(TamperedArtifactException.class)
          .hasMessageStartingWith("Digest mismatch for '");
      TestBundles.xorByte(victim, pos, mask);
      verifier.verify(dir, BundleOptions.defaults());
    }
  }
}
