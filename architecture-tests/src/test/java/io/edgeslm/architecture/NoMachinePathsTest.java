package io.edgeslm.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * No file in the repository cites a path of one machine: a workspace ({@code /work/…}), a sibling
 * folder outside the clone ({@code ../shared}), a user's home ({@code /root/…}, {@code /home/…}),
 * or one particular JVM directory ({@code /usr/lib/jvm/temurin-25-jdk-amd64}). Such a path works
 * only where it was written; say the fact with its public source, or let the scripts find a JDK
 * (scripts/lib/java-home.sh). A glob over the JVM directory ({@code /usr/lib/jvm/*}) and the
 * directory itself are fine.
 */
class NoMachinePathsTest {

  static final Pattern MACHINE_PATH =
      Pattern.compile(
          "(?<![\\w.~$}-])(/work/|/root/|/home/[a-z_][a-z0-9_-]*/)"
              + "|\\.\\./shared\\b"
              + "|/usr/lib/jvm/[A-Za-z0-9]");

  /** The finding for one text, or none: file:line: the line. */
  static List<String> findings(String file, String text) {
    List<String> found = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      Matcher m = MACHINE_PATH.matcher(lines[i]);
      if (m.find()) {
        found.add(file + ":" + (i + 1) + ": " + lines[i].strip());
      }
    }
    return found;
  }

  @Test
  void noTrackedFileCitesAPathOutsideTheRepository() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Process git =
        new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z")
            .redirectErrorStream(true)
            .start();
    String listing = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(git.waitFor()).as(listing).isZero();
    List<String> found = new ArrayList<>();
    int read = 0;
    for (String name : listing.split("\0")) {
      if (name.isEmpty()
          || name.endsWith("package-lock.json")
          || name.endsWith("NoMachinePathsTest.java")) {
        continue;
      }
      Path file = root.resolve(name);
      if (!Files.isRegularFile(file) || Files.size(file) > 2_000_000) {
        continue;
      }
      String text;
      try {
        text = Files.readString(file, StandardCharsets.UTF_8);
      } catch (MalformedInputException e) {
        continue; // binary
      } catch (IOException e) {
        throw new AssertionError(name + " is unreadable", e);
      }
      read++;
      found.addAll(findings(name, text));
    }
    assertThat(read).as("files read").isGreaterThan(100);
    assertThat(found).as("paths of one machine, cited in the repository").isEmpty();
  }

  @Test
  void pattern_catchesMachinePathsAndLeavesTheRestAlone() {
    assertThat(findings("a", "see /work/shared/reference/mqtt.md")).hasSize(1);
    assertThat(findings("a", "cat ../shared/house-style.md")).hasSize(1);
    assertThat(findings("a", "export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64")).hasSize(1);
    assertThat(findings("a", "cd /root/.m2")).hasSize(1);
    assertThat(findings("a", "for j in /usr/lib/jvm/*/; do")).isEmpty();
    assertThat(findings("a", "installs under `/usr/lib/jvm/`")).isEmpty();
    assertThat(findings("a", "$R/usr/lib/jvm/*/ and ${HOME}/work/x")).isEmpty();
    assertThat(findings("a", "https://example.org/work/item")).isEmpty();
  }
}
