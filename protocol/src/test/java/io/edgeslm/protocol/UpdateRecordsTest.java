package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.BitSet;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UpdateRecordsTest {

  private static final String H = "a".repeat(64);
  private static final ModelRef MODEL = ModelRef.of("m", 3, "sha256:" + "b".repeat(64));
  private static final Instant T = Instant.parse("2026-11-21T08:00:00Z");

  private static UpdateAssignment assignment(int chunkBytes, BundleFile... files) {
    long total = 0;
    for (BundleFile f : files) {
      total += f.sizeBytes();
    }
    return new UpdateAssignment(
        1,
        "as-1",
        null,
        "b-1",
        MODEL,
        total,
        chunkBytes,
        List.of(files),
        "edge/v1/s/n/update/request",
        T);
  }

  @Test
  void assignment_chunkListMatchingSizes_isAccepted() {
    UpdateAssignment a =
        assignment(
            4096,
            new BundleFile("model.gguf", 8193, H, List.of(H, H, H)),
            new BundleFile("empty.txt", 0, H, List.of()));

    assertThat(a.file("model.gguf")).isPresent();
    assertThat(a.file("model.gguf").orElseThrow().chunkLength(2, 4096)).isEqualTo(1);
    assertThat(a.file("model.gguf").orElseThrow().chunkLength(0, 4096)).isEqualTo(4096);
  }

  @Test
  void assignment_chunkCountNotMatchingSize_isRefused() {
    assertThatThrownBy(() -> assignment(4096, new BundleFile("model.gguf", 8193, H, List.of(H, H))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "file 'model.gguf' of 8193 bytes must list 3 chunk hashes at chunkBytes=4096: got 2."
                + " Recompute the chunk hashes with this chunk size.");
  }

  @Test
  void assignment_ofAnAdapter_carriesItsBase_aMalformedBaseIsRefused() throws Exception {
    BundleFile f = new BundleFile("a", 1, H, List.of(H));
    String base = "sha256:" + "e".repeat(64);
    UpdateAssignment a =
        new UpdateAssignment(1, "as-1", null, "b-1", MODEL, 1, 4096, List.of(f), "x/y", T, base);
    assertThat(a.isAdapter()).isTrue();
    String json = Json.writeString(a);
    assertThat(json).contains("\"baseModelDigest\":\"" + base + "\"").doesNotContain("\"adapter\"");
    assertThat(
            Json.read(
                json.getBytes(java.nio.charset.StandardCharsets.UTF_8), UpdateAssignment.class))
        .isEqualTo(a);
    assertThatThrownBy(
            () ->
                new UpdateAssignment(
                    1, "as-1", null, "b-1", MODEL, 1, 4096, List.of(f), "x/y", T, "e".repeat(64)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("baseModelDigest");
  }

  @Test
  void assignment_wrongTotal_isRefused() {
    assertThatThrownBy(
            () ->
                new UpdateAssignment(
                    1,
                    "as-1",
                    null,
                    "b-1",
                    MODEL,
                    5,
                    4096,
                    List.of(new BundleFile("a", 1, H, List.of(H))),
                    "x/y",
                    T))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "totalBytes must equal the sum of the file sizes: got totalBytes=5, sum=1. Recompute"
                + " totalBytes.");
  }

  @Test
  void assignment_duplicateFile_isRefused() {
    BundleFile f = new BundleFile("a", 1, H, List.of(H));
    assertThatThrownBy(() -> assignment(4096, f, f))
        .hasMessage("files must not repeat a name: 'a' appears twice. List each bundle file once.");
  }

  @Test
  void bundleFile_pathTraversal_isRefused() {
    for (String bad : List.of("../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "")) {
      assertThatThrownBy(() -> new BundleFile(bad, 1, H, List.of(H)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("file.name must be a relative path");
    }
    assertThat(new BundleFile("eval/golden.jsonl", 1, H, List.of(H)).name())
        .isEqualTo("eval/golden.jsonl");
  }

  @Test
  void bundleFile_uppercaseHash_isRefused() {
    assertThatThrownBy(() -> new BundleFile("a", 1, "A".repeat(64), List.of(H)))
        .hasMessageStartingWith("file.sha256 must be 64 lowercase hex digits");
  }

  @Test
  void chunkRequest_bitmap_roundTripsTheWantedSet() throws Exception {
    BitSet missing = new BitSet();
    missing.set(1);
    missing.set(2);
    missing.set(900);

    ChunkRequest r =
        ChunkRequest.bitmap("r-1", "as-1", "model.gguf", missing, "edge/v1/s/n/update/chunk");
    ChunkRequest back = Json.read(Json.write(r), ChunkRequest.class);

    assertThat(back.wanted()).isEqualTo(missing);
    assertThat(ChunkRequest.bitmap("r", "a", "f", bits(1, 2), "t").bitmap()).isEqualTo("Bg==");
  }

  @Test
  void chunkRequest_rangeAndBitmapTogether_isRefused() {
    assertThatThrownBy(() -> new ChunkRequest(1, "r", "a", "f", 0, 1, "Bg==", "t"))
        .hasMessage(
            "a chunk request names its chunks either by first+count or by bitmap: got both. Send"
                + " one of the two.");
    assertThatThrownBy(() -> new ChunkRequest(1, "r", "a", "f", null, null, null, "t"))
        .hasMessageContaining("got neither");
  }

  @Test
  void chunkRequest_moreThan64Chunks_isRefused() {
    assertThatThrownBy(() -> ChunkRequest.range("r", "a", "f", 0, 65, "t"))
        .hasMessage("count must be between 1 and 64: got 65. Use a value in that range.");
    BitSet many = new BitSet();
    many.set(0, 65);
    assertThatThrownBy(() -> ChunkRequest.bitmap("r", "a", "f", many, "t"))
        .hasMessage(
            "bitmap must mark 1 to 64 chunks: got 65. Ask for the missing chunks in windows of at"
                + " most 64.");
  }

  @Test
  void chunkRequest_notBase64_isRefused() {
    assertThatThrownBy(() -> new ChunkRequest(1, "r", "a", "f", null, null, "!!", "t"))
        .hasMessageStartingWith("bitmap must be standard base64: got '!!'");
  }

  @Test
  void chunkRequest_range_wantedIsTheRange() {
    assertThat(ChunkRequest.range("r", "a", "f", 3, 2, "t").wanted()).isEqualTo(bits(3, 4));
  }

  @Test
  void chunkHeader_userProperties_roundTrip_andUnknownPropertiesAreIgnored() throws Exception {
    ChunkHeader h = ChunkHeader.of("r-1", "as-1", "model.gguf", 7, 7L * 262144);
    Map<String, String> props = new LinkedHashMap<>(h.toUserProperties());
    props.put("trace-id", "abc");

    assertThat(ChunkHeader.fromUserProperties(props)).isEqualTo(h);
    assertThat(h.toUserProperties().keySet())
        .containsExactly(
            "edgeslm-schema", "type", "request-id", "assignment-id", "file", "index", "offset");
  }

  @Test
  void chunkHeader_missingOrBadProperty_isInvalid() {
    Map<String, String> props =
        new LinkedHashMap<>(ChunkHeader.of("r", "a", "f", 0, 0).toUserProperties());
    props.remove("offset");
    assertThatThrownBy(() -> ChunkHeader.fromUserProperties(props))
        .isInstanceOf(InvalidPayloadException.class)
        .hasMessage(
            "ChunkHeader: user property offset is required but missing. Set it on the chunk"
                + " message.");
    props.put("offset", "12x");
    assertThatThrownBy(() -> ChunkHeader.fromUserProperties(props))
        .hasMessage(
            "ChunkHeader: user property offset must be a decimal integer: got '12x'. Write it as"
                + " digits.");
  }

  @Test
  void chunkHeader_newerSchema_isUnsupportedVersion() {
    Map<String, String> props =
        new LinkedHashMap<>(ChunkHeader.of("r", "a", "f", 0, 0).toUserProperties());
    props.put("edgeslm-schema", "2");

    assertThatThrownBy(() -> ChunkHeader.fromUserProperties(props))
        .isInstanceOfSatisfying(
            InvalidPayloadException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_VERSION));
  }

  @Test
  void chunkData_base64RoundTrip_comparesByContent_andCopiesBytes() throws Exception {
    byte[] bytes = {1, 2, 3, (byte) 0xff};
    ChunkData d = new ChunkData(1, "r", "a", "f", 0, 0, bytes);
    bytes[0] = 9;

    ChunkReply back = Json.read(Json.write(d), ChunkReply.class);

    assertThat(Json.writeString(d))
        .contains("\"data\":\"AQID/w==\"")
        .startsWith("{\"type\":\"chunk\"");
    assertThat(back).isEqualTo(d);
    assertThat(d.data()[0]).isEqualTo((byte) 1);
  }

  @Test
  void chunkError_busyWithoutRetry_isRefused() {
    assertThatThrownBy(() -> new ChunkError(1, "r", null, ErrorCode.BUSY, "slow down", null))
        .hasMessage(
            "retryAfterMs is required when code is 'busy': got none. Tell the node when to"
                + " retry.");
  }

  @Test
  void progress_doneAboveTotal_isRefused() {
    assertThatThrownBy(
            () -> new UpdateProgress(1, "as-1", UpdatePhase.DOWNLOADING, 11, 10, null, null, T))
        .hasMessage("bytesDone must be between 0 and 10: got 11. Use a value in that range.");
  }

  @Test
  void result_rejectedWithoutReason_isRefused() {
    assertThatThrownBy(
            () ->
                new UpdateResult(
                    1, "as-1", null, UpdateOutcome.REJECTED, MODEL, null, null, null, null, T))
        .hasMessage(
            "reason is required when outcome is 'REJECTED': got none. Say why the update was"
                + " refused or undone.");
  }

  @Test
  void result_forACommandOnANodeWithoutModel_namesNoModel_andRoundTrips() throws Exception {
    UpdateResult r =
        new UpdateResult(
            1,
            null,
            "cmd-1",
            UpdateOutcome.REJECTED,
            null,
            null,
            "no_previous_model",
            "There is no previous model to roll back to.",
            null,
            T);

    String json = new String(Json.write(r), java.nio.charset.StandardCharsets.UTF_8);

    assertThat(json).doesNotContain("\"model\"");
    assertThat(
            Json.read(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), UpdateResult.class))
        .isEqualTo(r);
  }

  @Test
  void command_cancelWithoutAssignment_isRefused() {
    assertThatThrownBy(() -> new UpdateCommand(1, "c-1", CommandAction.CANCEL, null, null, T, null))
        .hasMessage(
            "assignmentId is required for action 'cancel': got none. Name the assignment to"
                + " cancel.");
  }

  @Test
  void journal_entriesOutOfOrder_isRefused() {
    JournalEntry e5 = new JournalEntry(5, T, JournalEvent.ASSIGNED, "as-1", null, null, null);
    JournalEntry e4 = new JournalEntry(4, T, JournalEvent.VERIFIED, "as-1", null, null, null);

    assertThatThrownBy(() -> new JournalBatch(1, "gw-1", List.of(e5, e4)))
        .hasMessage(
            "entries must have strictly increasing seq: entries[1].seq=4 follows 5. Send entries"
                + " in journal order, each once.");
    assertThat(new JournalBatch(1, "gw-1", List.of(e4, e5)).lastSeq()).isEqualTo(5);
  }

  @Test
  void journal_emptyOrNullEntries_isRefused() {
    assertThatThrownBy(() -> new JournalBatch(1, "gw-1", Collections.emptyList()))
        .hasMessage("entries must have at least one entry: got none. Add an entry to entries.");
    assertThatThrownBy(() -> new JournalBatch(1, "gw-1", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void window_takesTheLowest64MissingChunks() {
    BitSet missing = new BitSet();
    missing.set(3);
    missing.set(100, 200);

    BitSet window = ChunkRequest.window(missing);

    assertThat(window.cardinality()).isEqualTo(64);
    assertThat(window.nextSetBit(0)).isEqualTo(3);
    assertThat(window.previousSetBit(Integer.MAX_VALUE - 1)).isEqualTo(162);
    assertThat(ChunkRequest.window(new BitSet()).isEmpty()).isTrue();
  }

  private static BitSet bits(int... indexes) {
    BitSet b = new BitSet();
    for (int i : indexes) {
      b.set(i);
    }
    return b;
  }
}
