package io.edgeslm.testkit.internal.gguf;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded, fast, approximately Gaussian weights. Each value is the centred sum of four uniform bytes
 * (an Irwin–Hall distribution with n = 4 on 1021 levels, within ±3.5 standard deviations), two
 * values per 64-bit draw. That is close enough to a normal distribution for synthetic weights and
 * many times cheaper than {@link java.util.Random#nextGaussian()}.
 *
 * <p>Every row of every tensor gets its own stream derived from the model seed, the tensor name and
 * the row index, so values depend neither on the order of tensors nor on how rows are shared
 * between threads.
 */
public final class WeightGenerator {
  // Four uniform bytes: each has variance (256^2 - 1) / 12, the sum four times that.
  private static final float UNIT_SCALE =
      (float) (1.0 / Math.sqrt(4.0 * (256.0 * 256.0 - 1) / 12.0));
  private static final float CENTRE = 4 * 127.5f;
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private final SplittableRandom random;
  private final float scale;

  private WeightGenerator(long streamSeed, float stddev) {
    this.random = new SplittableRandom(streamSeed);
    this.scale = UNIT_SCALE * stddev;
  }

  /**
   * A generator for row {@code row} of tensor {@code tensorName} in a model written with {@code
   * modelSeed}. Rows have independent streams so that they can be generated in parallel and in any
   * order with the same result.
   */
  public static WeightGenerator forRow(long modelSeed, String tensorName, long row, float stddev) {
    return forRow(tensorKey(modelSeed, tensorName), row, stddev);
  }

  /** A generator for row {@code row} of the tensor whose {@link #tensorKey} is {@code key}. */
  public static WeightGenerator forRow(long key, long row, float stddev) {
    return new WeightGenerator(mix(key + row * GOLDEN_GAMMA), stddev);
  }

  /** A seed for one tensor, derived from the model seed and every byte of the tensor name. */
  public static long tensorKey(long modelSeed, String tensorName) {
    long h = modelSeed;
    for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xFF));
    }
    return mix(h);
  }

  /** Fills {@code out[offset..offset+count)} with values of mean 0 and the chosen deviation. */
  public void fill(float[] out, int offset, int count) {
    int i = 0;
    for (; i + 1 < count; i += 2) {
      long r = random.nextLong();
      out[offset + i] = centred((int) r) * scale;
      out[offset + i + 1] = centred((int) (r >>> 32)) * scale;
    }
    if (i < count) {
      out[offset + i] = centred((int) random.nextLong()) * scale;
    }
  }

  // Sum of the four bytes of 32 random bits, minus its mean 4 * 127.5.
  private static float centred(int bits) {
    int sum = (bits & 0xFF) + ((bits >>> 8) & 0xFF) + ((bits >>> 16) & 0xFF) + (bits >>> 24);
    return sum - CENTRE;
  }

  // The SplitMix64 finalizer (Steele, Lea, Flood: "Fast splittable pseudorandom number
  // generators", OOPSLA 2014): spreads every input bit over the whole word.
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
