package io.edgeslm.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * docs/tour.md read as a script: its command blocks ({@code ```bash tour step=N terminal=NAME
 * [flags]}) in document order, each with the {@code ```text expect} block after it. {@link
 * TourDocumentTest} checks the structure, {@link TourIT} runs the blocks; both read the page
 * through this class so that they agree on what a block is.
 */
final class TourDocument {

  /** The opening line of a command block: {@code ```bash tour step=N terminal=NAME [flags]}. */
  static final Pattern COMMAND_FENCE =
      Pattern.compile("^```bash tour step=(\\d+) terminal=([a-z0-9-]+)((?: [a-z]+)*)$");

  static final String EXPECT_FENCE = "```text expect";

  /** Flags a command block may carry (what each means: "How to read this page" in the tour). */
  static final Set<String> FLAGS = Set.of("background", "stop", "prebuilt");

  /**
   * One command block. {@code line} is the fence's line number (1-based), {@code expect} the text
   * of the expect block after it, or null when it has none.
   */
  record Block(
      int step, String terminal, Set<String> flags, String command, String expect, int line) {

    boolean background() {
      return flags.contains("background");
    }

    boolean stop() {
      return flags.contains("stop");
    }

    @Override
    public String toString() {
      return "step " + step + " (line " + line + ", terminal " + terminal + ")";
    }
  }

  private TourDocument() {}

  /** The blocks of {@code docs/tour.md} under {@code repo}. */
  static List<Block> read(Path repo) throws IOException {
    return parse(Files.readAllLines(repo.resolve("docs/tour.md")));
  }

  /**
   * The blocks of a tour page's lines. A plain {@code ```bash} or {@code ```sh} fence is an error:
   * every shell block of the page belongs to the tour, so that none escapes the test.
   */
  static List<Block> parse(List<String> lines) {
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = COMMAND_FENCE.matcher(lines.get(i));
      if (!m.matches()) {
        String l = lines.get(i);
        if (l.equals("```bash") || l.startsWith("```sh") || l.startsWith("```bash ")) {
          throw new IllegalArgumentException(
              "docs/tour.md line "
                  + (i + 1)
                  + ": a shell block must open with ```bash tour step=N terminal=NAME [flags],"
                  + " got: "
                  + l);
        }
        continue;
      }
      StringBuilder command = new StringBuilder();
      int j = i + 1;
      for (; j < lines.size() && !lines.get(j).equals("```"); j++) {
        command.append(lines.get(j)).append('\n');
      }
      int k = j + 1;
      while (k < lines.size() && lines.get(k).isBlank()) {
        k++;
      }
      String expect = null;
      if (k < lines.size() && lines.get(k).equals(EXPECT_FENCE)) {
        StringBuilder e = new StringBuilder();
        for (k++; k < lines.size() && !lines.get(k).equals("```"); k++) {
          e.append(lines.get(k)).append('\n');
        }
        expect = e.toString();
      }
      Set<String> flags = new LinkedHashSet<>();
      for (String f : m.group(3).trim().split(" ")) {
        if (!f.isEmpty()) {
          flags.add(f);
        }
      }
      out.add(
          new Block(
              Integer.parseInt(m.group(1)), m.group(2), flags, command.toString(), expect, i + 1));
      i = j;
    }
    return out;
  }

  /** The repository root: edgeslm.repo if set, else the first parent holding docs/tour.md. */
  static Path repository() {
    String property = System.getProperty("edgeslm.repo");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("docs/tour.md")) && Files.exists(p.resolve("mvnw"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docs/tour.md above " + Path.of("").toAbsolutePath());
  }
}
