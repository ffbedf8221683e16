package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ChildJvmIT {

  /** Child mains for the tests below. */
  public static final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
      switch (args[0]) {
        case "echo" -> {
          System.out.println("out:" + args[1] + ":" + System.getProperty("kit.flag"));
          System.err.println("err:" + args[1]);
          System.exit(7);
        }
        case "hang" -> {
          System.out.println("started");
          System.out.flush();
          Thread.sleep(Long.MAX_VALUE);
        }
        default -> System.exit(1);
      }
    }
  }

  @Test
  void run_capturesExitCodeStdoutStderrAndSystemProperties() throws Exception {
    ChildJvm.Result r =
        ChildJvm.of(Child.class.getName())
            .systemProperty("kit.flag", "on")
            .args("echo", "hello")
            .timeout(Duration.ofMinutes(1))
            .run();
    assertThat(r.exitCode()).isEqualTo(7);
    assertThat(r.stdout()).isEqualTo("out:hello:on\n");
    assertThat(r.stderr()).contains("err:hello");
    assertThatThrownBy(() -> r.requireExitCode(0))
        .isInstanceOf(HarnessUnavailableException.class)
        .hasMessageStartingWith("Child JVM exited with status 7, expected 0. Last stderr:");
  }

  @Test
  void run_childOutlivingTheTimeout_isKilledAndReported() {
    long before = ProcessHandle.current().children().count();
    assertThatThrownBy(
            () ->
                ChildJvm.of(Child.class.getName())
                    .args("hang")
                    .timeout(Duration.ofSeconds(3))
                    .run())
        .isInstanceOf(HarnessUnavailableException.class)
        .hasMessageContaining("did not exit within PT3S and was killed");
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).count())
        .isLessThanOrEqualTo(before);
  }
}
