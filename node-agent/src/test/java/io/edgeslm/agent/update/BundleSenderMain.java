package io.edgeslm.agent.update;

import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Topics;
import io.edgeslm.protocol.UpdateAssignment;
import io.edgeslm.testkit.bundles.BundleServer;
import io.edgeslm.testkit.bundles.Faults;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The test kit's {@link BundleServer} in a JVM of its own, for {@link UpdateTransferBench} with
 * {@code -Dbench.sender=process}: in the field the chunks come from the controller on another
 * machine, so the node's JVM should not also pay for sending them. Arguments: broker URL, client
 * id, site, node id. It prints {@code ready} once connected and then answers one line per command
 * read from standard input:
 *
 * <ul>
 *   <li>{@code offer ASSIGNMENT BUNDLE DIR CHUNK_BYTES}: the assignment as one line of JSON
 *   <li>{@code resends ASSIGNMENT}: chunks of it sent more than once, summed
 *   <li>{@code quit}: exits
 * </ul>
 */
public final class BundleSenderMain {

  private BundleSenderMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    var node = Topics.node(args[2], args[3]);
    try (BundleServer server = BundleServer.start(args[0], args[1], Faults.NONE);
        BufferedReader in =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      out.println("ready");
      String line;
      while ((line = in.readLine()) != null && !line.equals("quit")) {
        String[] c = line.split(" ");
        switch (c[0]) {
          case "offer" -> {
            UpdateAssignment a =
                server.offer(c[1], c[2], benchModel(), Path.of(c[3]), Integer.parseInt(c[4]), node);
            out.println(new String(Json.write(a), StandardCharsets.UTF_8));
          }
          case "resends" -> out.println(server.resends(c[1]));
          default -> out.println("unknown command: " + line);
        }
      }
    }
    System.exit(0);
  }

  /** The model the bench's assignments name (the downloader does not look at it). */
  static ModelRef benchModel() {
    return new ModelRef("bench", 1, "sha256:" + "0".repeat(64), "stable");
  }
}
