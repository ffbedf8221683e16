package io.edgeslm.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleFileTest {

  private static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  @Test
  void fromFile_hashesWholeFileAndEachChunk(@TempDir Path dir) throws Exception {
    byte[] content = new byte[4096 * 2 + 10];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) (i * 31);
    }
    Path file = dir.resolve("model.gguf");
    Files.write(file, content);

    BundleFile f = BundleFile.fromFile("model.gguf", file, 4096);

    assertThat(f.sizeBytes()).isEqualTo(content.length);
    assertThat(f.sha256()).isEqualTo(sha256(content));
    assertThat(f.chunks())
        .containsExactly(
            sha256(Arrays.copyOfRange(content, 0, 4096)),
            sha256(Arrays.copyOfRange(content, 4096, 8192)),
            sha256(Arrays.copyOfRange(content, 8192, content.length)));
  }

  @Test
  void fromFile_emptyFile_hasNoChunks(@TempDir Path dir) throws Exception {
    Path file = Files.createFile(dir.resolve("empty"));

    BundleFile f = BundleFile.fromFile("empty", file, 4096);

    // SHA-256 of the empty string (FIPS 180-4 test vector).
    assertThat(f.sha256())
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assertThat(f.chunks()).isEmpty();
  }

  @Test
  void verifyChunk_acceptsTheRightBytes_andNamesEveryMismatch(@TempDir Path dir) throws Exception {
    byte[] content = "abcdefghij".repeat(500).getBytes(StandardCharsets.US_ASCII);
    Path file = dir.resolve("release.json");
    Files.write(file, content);
    BundleFile f = BundleFile.fromFile("release.json", file, 4096);
    byte[] second = Arrays.copyOfRange(content, 4096, content.length);

    f.verifyChunk(1, second, 4096);

    byte[] damaged = second.clone();
    damaged[0] ^= 1;
    assertThatThrownBy(() -> f.verifyChunk(1, damaged, 4096))
        .isInstanceOfSatisfying(
            InvalidPayloadException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID))
        .hasMessage(
            "Chunk 1 of 'release.json' has sha256 "
                + sha256(damaged)
                + ", the assignment lists "
                + sha256(second)
                + ". The chunk was damaged or comes from another file; request it again.");
    assertThatThrownBy(() -> f.verifyChunk(1, Arrays.copyOf(second, 5), 4096))
        .hasMessage("Chunk 1 of 'release.json' must be 904 bytes: got 5. Request the chunk again.");
    assertThatThrownBy(() -> f.verifyChunk(2, second, 4096))
        .isInstanceOfSatisfying(
            InvalidPayloadException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND))
        .hasMessage(
            "Chunk 2 of 'release.json' does not exist: the file has 2 chunks. Request an index"
                + " from 0 to 1.");
  }

  @Test
  void fromFile_chunkSizeBelowMinimum_isRefused(@TempDir Path dir) throws Exception {
    Path file = Files.write(dir.resolve("a"), new byte[1]);

    assertThatThrownBy(() -> BundleFile.fromFile("a", file, 100))
        .hasMessage(
            "chunkBytes must be between 4096 and 16777216: got 100. Use a value in that range.");
  }
}
