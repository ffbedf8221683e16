package io.edgeslm.agent.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.BundleFile;
import io.edgeslm.protocol.ModelRef;
import io.edgeslm.protocol.Protocol;
import io.edgeslm.protocol.UpdateAssignment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BitmapSlotsTest {

  @TempDir Path tmp;

  @Test
  void open_whenTheFileIsMissing_createsItWithNoRecord() throws Exception {
    Path file = tmp.resolve("0.bits");
    try (BitmapSlots s = BitmapSlots.open(file, 100)) {
      assertThat(s.recovered()).isEmpty();
    }
    assertThat(Files.size(file)).isEqualTo(2 * 4096);
    assertThat(BitmapSlots.read(tmp.resolve("other.bits"), 100)).isEmpty();
  }

  @Test
  void reopen_afterWrites_recoversTheNewest() throws Exception {
    Path file = tmp.resolve("0.bits");
    try (BitmapSlots s = BitmapSlots.open(file, 100)) {
      s.write(new byte[] {1});
      s.write(new byte[] {1, 2});
      s.write(new byte[] {1, 2, 3});
    }
    try (BitmapSlots s = BitmapSlots.open(file, 100)) {
      assertThat(s.recovered()).contains(new byte[] {1, 2, 3});
      s.write(new byte[] {4});
    }
    assertThat(BitmapSlots.read(file, 100)).contains(new byte[] {4});
  }

  @Test
  void reopen_whenTheNewestRecordIsTorn_recoversTheOneBefore() throws Exception {
    Path file = tmp.resolve("0.bits");
    byte[] older = new byte[5000];
    byte[] newer = new byte[5000];
    new Random(1).nextBytes(older);
    new Random(2).nextBytes(newer);
    try (BitmapSlots s = BitmapSlots.open(file, 5000)) {
      s.write(older); // slot 0
      s.write(newer); // slot 1
    }
    // A power cut in the middle of slot 1's record: its second half still holds other bytes.
    int slot = (int) (Files.size(file) / 2);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[2000]), slot + 3000);
    }
    try (BitmapSlots s = BitmapSlots.open(file, 5000)) {
      assertThat(s.recovered()).contains(older);
      // The next record goes to the torn slot, not over the one recovered.
      s.write(new byte[] {9});
    }
    assertThat(BitmapSlots.read(file, 5000)).contains(new byte[] {9});
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 0}), slot);
    }
    assertThat(BitmapSlots.read(file, 5000)).contains(older);
  }

  @Test
  void stagedTransfer_resumesFromTheBitmapFileOfEarlierAgents_andFromItsSlotsAfterAFlush()
      throws Exception {
    int chunk = UpdateAssignment.MIN_CHUNK_BYTES;
    byte[] bytes = new byte[3 * chunk];
    new Random(3).nextBytes(bytes);
    Path source = tmp.resolve("model.bin");
    Files.write(source, bytes);
    UpdateAssignment a =
        new UpdateAssignment(
            Protocol.SCHEMA_VERSION,
            "a1",
            null,
            "b1",
            new ModelRef("m", 1, "sha256:" + "0".repeat(64), "stable"),
            bytes.length,
            chunk,
            List.of(BundleFile.fromFile("model.bin", source, chunk)),
            "edge/v1/site/n1/update/request",
            Instant.now());
    Path staging = tmp.resolve("staging");
    try (StagedTransfer t = StagedTransfer.open(staging, a)) {
      t.write(0, 0, java.util.Arrays.copyOfRange(bytes, 0, chunk));
      t.flush();
    }
    // What an agent before the slots left: chunks 0 and 2 in state/0.have, no slot record.
    Files.delete(staging.resolve("state").resolve("0.bits"));
    BitSet old = new BitSet();
    old.set(0);
    old.set(2);
    Files.write(staging.resolve("state").resolve("0.have"), old.toByteArray());
    try (StagedTransfer t = StagedTransfer.open(staging, a)) {
      assertThat(t.missing(0)).isEqualTo(BitSet.valueOf(new byte[] {2}));
      t.write(0, 1, java.util.Arrays.copyOfRange(bytes, chunk, 2 * chunk));
      t.flush();
    }
    assertThat(StagedTransfer.durableChunks(staging, a, 0).cardinality()).isEqualTo(3);
    try (StagedTransfer t = StagedTransfer.open(staging, a)) {
      assertThat(t.complete()).isTrue();
    }
  }
}
