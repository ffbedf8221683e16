package io.edgeslm.agent.internal.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

  @TempDir Path dir;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<Long> drain(Journal j) throws Exception {
    List<Long> seqs = new ArrayList<>();
    while (j.oldest().isPresent()) {
      Journal.Entry e = j.oldest().get();
      seqs.add(e.seq());
      j.remove(e.seq());
    }
    return seqs;
  }

  @Test
  void append_thenOldest_returnsEntriesInAppendOrderWithTopicAndPayload() throws Exception {
    Journal j = Journal.open(dir, 100, 1 << 20);
    j.append("a/health", utf8("one"));
    j.append("a/report", utf8("two"));

    Journal.Entry first = j.oldest().orElseThrow();
    assertThat(first.seq()).isEqualTo(1);
    assertThat(first.topic()).isEqualTo("a/health");
    assertThat(new String(first.payload(), StandardCharsets.UTF_8)).isEqualTo("one");
    j.remove(first.seq());
    assertThat(j.oldest().orElseThrow().topic()).isEqualTo("a/report");
    assertThat(j.size()).isEqualTo(1);
  }

  @Test
  void reopen_keepsWaitingEntriesAndNeverReusesSequenceNumbers() throws Exception {
    Journal j = Journal.open(dir, 100, 1 << 20);
    for (int i = 0; i < 5; i++) {
      j.append("t", utf8("m" + i));
    }
    j.remove(1);
    j.remove(2);

    Journal reopened = Journal.open(dir, 100, 1 << 20);
    assertThat(reopened.size()).isEqualTo(3);
    assertThat(drain(reopened)).containsExactly(3L, 4L, 5L);
    Journal again = Journal.open(dir, 100, 1 << 20);
    assertThat(again.append("t", utf8("later"))).isEqualTo(6);
  }

  @Test
  void append_pastMaxEntries_dropsOldestAndCountsThem() throws Exception {
    Journal j = Journal.open(dir, 3, 1 << 20);
    for (int i = 0; i < 5; i++) {
      j.append("t", utf8("m" + i));
    }
    assertThat(j.dropped()).isEqualTo(2);
    assertThat(drain(j)).containsExactly(3L, 4L, 5L);
  }

  @Test
  void append_pastMaxBytes_dropsOldestButKeepsNewest() throws Exception {
    Journal j = Journal.open(dir, 1000, 4096);
    byte[] kb = new byte[1500];
    for (int i = 0; i < 5; i++) {
      j.append("t", kb);
    }
    assertThat(j.bytes()).isLessThanOrEqualTo(4096);
    assertThat(j.dropped()).isEqualTo(3);
    assertThat(drain(j)).containsExactly(4L, 5L);
  }

  @Test
  void oldest_corruptEntry_isSetAsideAndSkipped() throws Exception {
    Journal j = Journal.open(dir, 100, 1 << 20);
    j.append("t", utf8("first"));
    j.append("t", utf8("second"));
    Path firstFile = dir.resolve(String.format("%020d.msg", 1));
    byte[] bytes = Files.readAllBytes(firstFile);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(firstFile, bytes);

    Journal reopened = Journal.open(dir, 100, 1 << 20);
    assertThat(reopened.oldest().orElseThrow().seq()).isEqualTo(2);
    assertThat(dir.resolve(String.format("%020d.msg.corrupt", 1))).exists();
  }

  @Test
  void open_leftoverTemporaryFile_isDeleted() throws Exception {
    Files.write(dir.resolve(String.format("%020d.msg.tmp", 7)), utf8("half-written"));
    Journal j = Journal.open(dir, 100, 1 << 20);
    assertThat(j.size()).isZero();
    assertThat(dir.resolve(String.format("%020d.msg.tmp", 7))).doesNotExist();
  }
}
