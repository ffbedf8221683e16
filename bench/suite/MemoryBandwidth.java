import java.util.Arrays;
import java.util.Locale;

/**
 * Memory read bandwidth for the machine facts of bench/run, measured the way the inference
 * benchmark measures its ceiling (InferenceBenchmark.memoryReadBandwidth): each of N threads sums
 * its own 256 MiB array of longs four times; bytes read divided by the wall time of the slowest
 * thread; best of three repetitions. A rough, portable stand-in for STREAM's read test.
 *
 * <p>Usage: {@code java -Xmx1g bench/suite/MemoryBandwidth.java [threads]} (default 2, the thread
 * count the inference benchmark uses). Prints one line: {@code bandwidth=<GB/s> threads=<n>}.
 */
public class MemoryBandwidth {
  public static void main(String[] args) throws InterruptedException {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
    if (threads < 1 || threads > 8) {
      throw new IllegalArgumentException(
          "threads must be 1 to 8 (each needs a 256 MiB array), got " + threads);
    }
    int longs = 32 * 1024 * 1024;
    long[][] arrays = new long[threads][];
    for (int t = 0; t < threads; t++) {
      arrays[t] = new long[longs];
      Arrays.fill(arrays[t], t + 1);
    }
    double best = 0;
    long check = 0;
    for (int rep = 0; rep < 3; rep++) {
      Thread[] ts = new Thread[threads];
      long[] sums = new long[threads];
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int id = t;
        ts[t] =
            new Thread(
                () -> {
                  long sum = 0;
                  for (int pass = 0; pass < 4; pass++) {
                    long[] a = arrays[id];
                    for (int i = 0; i < a.length; i++) {
                      sum += a[i];
                    }
                  }
                  sums[id] = sum;
                });
        ts[t].start();
      }
      for (Thread t : ts) {
        t.join();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      best = Math.max(best, 4.0 * threads * longs * 8 / seconds);
      // Use the sums so that the JIT cannot drop the loops.
      check += Arrays.stream(sums).sum();
    }
    System.out.printf(
        Locale.ROOT, "bandwidth=%.1f threads=%d checksum=%d%n", best / 1e9, threads, check);
  }
}
