package io.edgeslm.testkit.internal.process;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Kills processes the kit started if the JVM exits before a test closes them, so a failed or
 * interrupted test run leaves no broker behind.
 */
public final class ProcessReaper {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            Thread.ofPlatform()
                .name("edgeslm-testkit-reaper")
                .unstarted(
                    () -> {
                      for (Process p : LIVE) {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                      }
                    }));
  }

  private ProcessReaper() {}

  public static void register(Process p) {
    LIVE.add(p);
  }

  public static void unregister(Process p) {
    LIVE.remove(p);
  }
}
