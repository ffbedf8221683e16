package io.edgeslm.agent.internal.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgeslm.protocol.JournalEvent;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.ReleaseTrack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {

  @TempDir Path dir;

  static final Instant T = Instant.parse("2026-11-21T08:00:00Z");

  StoredModel model(ModelStore s, String hexChar, long version) throws Exception {
    String digest = hexChar.repeat(64);
    StoredModel m =
        ModelStore.describe(digest, "m", version, "stable", "model.gguf", null, Set.of("k1"), T);
    Path staged = s.stagingDir("s-" + version).resolve("bundle");
    Files.createDirectories(staged);
    Files.writeString(staged.resolve("model.gguf"), "GGUF" + version);
    s.install(staged, m);
    return m;
  }

  @Test
  void trialCommitAndRollback_moveThePointer_andCollectOldModels() throws Exception {
    ModelStore s = ModelStore.open(dir);
    StoredModel a = model(s, "a", 1);
    s.beginTrial(a, "as-1");
    s.commit();
    StoredModel b = model(s, "b", 2);
    s.beginTrial(b, "as-2");
    assertThat(s.pointer()).isEqualTo(new StorePointer(b, a, true, "as-2"));

    assertThat(s.rollback()).contains(a);

    assertThat(s.pointer()).isEqualTo(new StorePointer(a, null, false, null));
    assertThat(s.isInstalled(b.digest())).isFalse();
    assertThat(ModelStore.open(dir).active()).contains(a);
  }

  @Test
  void commitWithAScore_keepsItAcrossARestart_andARollbackBringsBackThePreviousOnesScore()
      throws Exception {
    ModelStore s = ModelStore.open(dir);
    StoredModel a = model(s, "a", 1);
    s.beginTrial(a, "as-1");
    s.commit(0.75);

    assertThat(ModelStore.open(dir).active().orElseThrow().activationScore()).isEqualTo(0.75);

    StoredModel b = model(s, "b", 2);
    s.beginTrial(b, "as-2");
    s.commit(1.0);
    ModelStore reopened = ModelStore.open(dir);
    assertThat(reopened.active().orElseThrow().activationScore()).isEqualTo(1.0);
    assertThat(reopened.previous().orElseThrow().activationScore()).isEqualTo(0.75);

    reopened.rollback();
    assertThat(ModelStore.open(dir).active().orElseThrow().activationScore()).isEqualTo(0.75);
  }

  @Test
  void open_afterRestartDuringTrial_rollsBackToThePreviousModel() throws Exception {
    ModelStore s = ModelStore.open(dir);
    StoredModel a = model(s, "a", 1);
    s.beginTrial(a, "as-1");
    s.commit();
    StoredModel b = model(s, "b", 2);
    s.beginTrial(b, "as-2");

    ModelStore reopened = ModelStore.open(dir);

    assertThat(reopened.active()).contains(a);
    assertThat(reopened.interruptedTrial()).get().extracting(StorePointer::active).isEqualTo(b);
    assertThat(reopened.recoveryNotes()).anyMatch(n -> n.startsWith("restarted while m v2"));
  }

  @Test
  void open_interruptedTrial_isReportedAgainUntilSettled() throws Exception {
    ModelStore s = ModelStore.open(dir);
    StoredModel a = model(s, "a", 1);
    s.beginTrial(a, "as-1");
    s.commit();
    StoredModel b = model(s, "b", 2);
    s.beginTrial(b, "as-2");

    // A crash before the rollback was journaled: the next open finds the trial again.
    assertThat(ModelStore.open(dir).interruptedTrial()).isPresent();
    ModelStore third = ModelStore.open(dir);
    assertThat(third.interruptedTrial()).isPresent();
    assertThat(third.active()).contains(a);

    third.settleRecovery();

    ModelStore settled = ModelStore.open(dir);
    assertThat(settled.interruptedTrial()).isEmpty();
    assertThat(settled.pointer()).isEqualTo(new StorePointer(a, null, false, null));
  }

  @Test
  void open_removesTemporaryFilesAndHalfInstalledDirectories_butKeepsVerifiedOnes()
      throws Exception {
    ModelStore s = ModelStore.open(dir);
    StoredModel a = model(s, "a", 1);
    Files.writeString(dir.resolve("pointer.json.tmp"), "{torn");
    Files.createDirectories(dir.resolve("models").resolve("c".repeat(64)));

    ModelStore reopened = ModelStore.open(dir);

    assertThat(dir.resolve("pointer.json.tmp")).doesNotExist();
    assertThat(dir.resolve("models").resolve("c".repeat(64))).doesNotExist();
    assertThat(reopened.installed(a.digest())).contains(a);
    assertThat(reopened.active()).isEmpty();
  }

  @Test
  void putMark_storesWhatThePolicyDecided_andSurvivesRestart() throws Exception {
    ModelStore s = ModelStore.open(dir);
    ReleaseTrack t = new ReleaseTrack("m", "stable");
    s.putMark(t, new HighWaterMark(7, Set.of("k1")));
    // A lower mark replaces a higher one: the release policy decided the old one no longer binds.
    s.putMark(t, new HighWaterMark(3, Set.of("k2")));

    assertThat(ModelStore.open(dir).marks()).containsEntry(t, new HighWaterMark(3, Set.of("k2")));
  }

  @Test
  void journal_cutsATornLastLine_andReplaysOnlyAboveTheAck() throws Exception {
    UpdateJournal j = UpdateJournal.open(dir);
    j.append(JournalEvent.ASSIGNED, "as-1", null, null, "one", T);
    j.append(JournalEvent.DOWNLOAD_STARTED, "as-1", null, null, "two", T);
    j.append(JournalEvent.DOWNLOADED, "as-1", null, null, "three", T);
    j.close();
    Files.writeString(
        dir.resolve("journal.jsonl"),
        "{\"seq\":4,\"at\":\"2026-",
        java.nio.file.StandardOpenOption.APPEND);

    UpdateJournal k = UpdateJournal.open(dir);
    assertThat(k.lastSeq()).isEqualTo(3);
    k.acknowledge(2);
    assertThat(k.unacknowledged(10)).extracting(e -> e.seq()).containsExactly(3L);
    assertThat(k.append(JournalEvent.VERIFIED, "as-1", null, null, null, T).seq()).isEqualTo(4);
    k.close();

    UpdateJournal l = UpdateJournal.open(dir);
    assertThat(l.unacknowledged(10)).extracting(e -> e.seq()).containsExactly(3L, 4L);
    assertThat(l.acknowledged()).isEqualTo(2);
    l.close();
  }
}
