package io.edgeslm.agent.internal.update;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.agent.internal.store.StagedTransfer;
import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ChunkHeader;
import io.edgeslm.protocol.ChunkRequest;
import io.edgeslm.protocol.Json;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.UpdateAssignment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downloader's crash bound on real files: a link that answers every request at once (faster
 * than any disk forces), and at every request a look at what is durable on disk (the bitmap file).
 */
class ChunkDownloaderTest {

  static final int CHUNK = UpdateAssignment.MIN_CHUNK_BYTES;
  static final int CHUNKS = 700;

  @TempDir Path tmp;

  @Test
  void chunksAskedButNotDurable_neverExceedTheWindow_andTheFileArrivesWhole() throws Exception {
    Path bundle = Files.createDirectories(tmp.resolve("bundle"));
    byte[] bytes = new byte[CHUNKS * CHUNK - 123];
    new Random(7).nextBytes(bytes);
    Path file = bundle.resolve("model.bin");
    Files.write(file, bytes);
    BundleFile described = BundleFile.fromFile("model.bin", file, CHUNK);
    UpdateAssignment a =
        new UpdateAssignment(
            Protocol.SCHEMA_VERSION,
            "a1",
            null,
            "b1",
            new ModelRef("m", 1, "sha256:" + "0".repeat(64), "stable"),
            bytes.length,
            CHUNK,
            List.of(described),
            "edge/v1/site/n1/update/request",
            Instant.now());
    ChunkDownloader.Tuning tuning = ChunkDownloader.Tuning.defaults();
    int window = tuning.requestsInFlight() * tuning.chunksPerRequest();
    Path staging = tmp.resolve("staging");

    List<String> violations = new ArrayList<>();
    BitSet asked = new BitSet();
    int[] worst = {0};
    try (StagedTransfer t = StagedTransfer.open(staging, a)) {
      ChunkDownloader[] d = new ChunkDownloader[1];
      UpdateLink link =
          new InstantLink(
              request -> {
                // What a crash now would cost: chunks asked for (this request included) whose
                // bits are not on disk yet.
                asked.or(request.wanted());
                BitSet durable = durable(staging, a);
                BitSet owed = (BitSet) asked.clone();
                owed.andNot(durable);
                worst[0] = Math.max(worst[0], owed.cardinality());
                if (owed.cardinality() > window) {
                  violations.add(owed.cardinality() + " chunks owed at request " + request);
                }
                for (int i = request.wanted().nextSetBit(0);
                    i >= 0;
                    i = request.wanted().nextSetBit(i + 1)) {
                  int from = i * CHUNK;
                  byte[] data =
                      Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + CHUNK));
                  d[0].offer(
                      new UpdateLink.Message(
                          "reply",
                          data,
                          ChunkHeader.of(request.requestId(), "a1", "model.bin", i, from)
                              .toUserProperties()));
                }
              });
      d[0] = new ChunkDownloader(t, link, "reply", tuning);
      d[0].run((done, total) -> {}, () -> false);
    }

    assertThat(violations).isEmpty();
    // The pipeline does run ahead of the disk: more than one batch was owed at some request.
    assertThat(worst[0]).isGreaterThan(tuning.chunksPerRequest());
    assertThat(Files.readAllBytes(staging.resolve("bundle").resolve("model.bin"))).isEqualTo(bytes);
    assertThat(durable(staging, a).cardinality()).isEqualTo(CHUNKS);
  }

  /** The bits on disk: a record the forcer is writing reads as torn, and the one before counts. */
  static BitSet durable(Path staging, UpdateAssignment a) {
    try {
      return StagedTransfer.durableChunks(staging, a, 0);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Answers every chunk request at once, on the caller's thread. */
  record InstantLink(Consumer<ChunkRequest> server) implements UpdateLink {
    @Override
    public void publish(String topic, byte[] payload, int qos, boolean retained)
        throws IOException {
      try {
        server.accept(Json.read(payload, ChunkRequest.class));
      } catch (io.edgeslm.protocol.InvalidPayloadException e) {
        throw new IOException(e);
      }
    }

    @Override
    public void subscribe(String filter, int qos, Consumer<Message> handler) {}

    @Override
    public long maxPacketSize() {
      return Long.MAX_VALUE;
    }

    @Override
    public boolean isConnected() {
      return true;
    }

    @Override
    public void onConnected(Runnable action) {}

    @Override
    public void close() {}
  }
}
