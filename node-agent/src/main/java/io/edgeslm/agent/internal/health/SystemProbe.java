package io.edgeslm.agent.internal.health;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Reads the machine's memory, disk and CPU temperature from Linux's {@code /proc} and {@code /sys}
 * (falling back to the JVM's view elsewhere). Every read is bounded and failure-tolerant: a board
 * without a thermal zone simply reports no temperature.
 */
public final class SystemProbe {

  private static final Path MEMINFO = Path.of("/proc/meminfo");
  private static final Path THERMAL = Path.of("/sys/class/thermal");
  private static final int MAX_ZONES = 64;

  private SystemProbe() {}

  /** Physical memory in bytes. */
  public static long ramTotalBytes() {
    return meminfo("MemTotal:").orElseGet(SystemProbe::jvmTotal);
  }

  /** Memory in use: total minus what the kernel could hand out without swapping. */
  public static long ramUsedBytes() {
    long total = ramTotalBytes();
    Optional<Long> available = meminfo("MemAvailable:");
    if (available.isPresent()) {
      return Math.max(0, Math.min(total, total - available.get()));
    }
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, Math.min(total, total - os.getFreeMemorySize()));
    }
    return 0;
  }

  private static long jvmTotal() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(1, os.getTotalMemorySize());
    }
    return Math.max(1, Runtime.getRuntime().maxMemory());
  }

  private static Optional<Long> meminfo(String key) {
    try {
      List<String> lines = Files.readAllLines(MEMINFO);
      for (String line : lines) {
        if (line.startsWith(key)) {
          String[] parts = line.substring(key.length()).trim().split("\\s+");
          return Optional.of(Long.parseLong(parts[0]) * 1024L); // kB
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or a restricted /proc: fall back
    }
    return Optional.empty();
  }

  /** Free bytes on the file system holding {@code path} (or its nearest existing parent). */
  public static long diskFreeBytes(Path path) {
    Path p = path.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    try {
      return p == null ? 0 : Math.max(0, Files.getFileStore(p).getUsableSpace());
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The hottest CPU-like thermal zone in °C, if the board exposes one ({@code
   * /sys/class/thermal/thermal_zone*}/temp in millidegrees).
   */
  public static OptionalDouble cpuTemperatureC() {
    if (!Files.isDirectory(THERMAL)) {
      return OptionalDouble.empty();
    }
    double hottest = Double.NaN;
    int seen = 0;
    try (DirectoryStream<Path> zones = Files.newDirectoryStream(THERMAL, "thermal_zone*")) {
      for (Path zone : zones) {
        if (++seen > MAX_ZONES) {
          break;
        }
        try {
          String raw = Files.readString(zone.resolve("temp")).trim();
          double c = Long.parseLong(raw) / 1000.0;
          if (c > -100 && c < 200 && (Double.isNaN(hottest) || c > hottest)) {
            hottest = c;
          }
        } catch (IOException | RuntimeException e) {
          // a zone without a readable temperature
        }
      }
    } catch (IOException e) {
      return OptionalDouble.empty();
    }
    return Double.isNaN(hottest) ? OptionalDouble.empty() : OptionalDouble.of(hottest);
  }
}
