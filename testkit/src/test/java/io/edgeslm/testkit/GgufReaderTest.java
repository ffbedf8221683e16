package io.edgeslm.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufReaderTest {
  @TempDir Path dir;

  @Test
  void read_notGguf_rejectsNamingTheMagic() throws Exception {
    Path f = Files.write(dir.resolve("x.gguf"), "PK\u0003\u0004 not a model".getBytes());
    assertThatThrownBy(() -> GgufReader.read(f))
        .isInstanceOf(GgufFormatException.class)
        .hasMessage(
            "'"
                + f
                + "' does not start with the GGUF magic (found 0x4034b50). It is not a GGUF"
                + " model.");
  }

  @Test
  void read_truncatedModel_rejectsAsTruncated() throws Exception {
    Path full = SyntheticModel.of(ModelShape.tiny(), GgmlType.Q4_0, 1).write(dir.resolve("m.gguf"));
    byte[] bytes = Files.readAllBytes(full);
    Path cut = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(bytes, bytes.length - 100));
    assertThatThrownBy(() -> GgufReader.read(cut))
        .isInstanceOf(GgufFormatException.class)
        .hasMessageContaining(
            "but the file has " + (bytes.length - 100) + ". The file is truncated.");
    Path header = Files.write(dir.resolve("header.gguf"), Arrays.copyOf(bytes, 5000));
    assertThatThrownBy(() -> GgufReader.read(header))
        .isInstanceOf(GgufFormatException.class)
        .hasMessageContaining("GGUF file ends at byte 5000 while reading");
  }

  @Test
  void read_arrayClaimingBillionsOfElements_rejectsBeforeAllocating() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46554747).putInt(3).putLong(0).putLong(1);
    byte[] key = "tokenizer.ggml.tokens".getBytes();
    b.putLong(key.length).put(key).putInt(9).putInt(8).putLong(3_000_000_000L);
    Path f = Files.write(dir.resolve("big.gguf"), Arrays.copyOf(b.array(), b.position()));
    assertThatThrownBy(() -> GgufReader.read(f))
        .isInstanceOf(GgufFormatException.class)
        .hasMessage(
            "Metadata array 'tokenizer.ggml.tokens' claims 3000000000 elements; the limit is"
                + " 4194304.");
  }

  @Test
  void read_stringLongerThanTheFile_rejectsAsTruncated() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46554747).putInt(3).putLong(0).putLong(1).putLong(1000).put("abc".getBytes());
    Path f = Files.write(dir.resolve("s.gguf"), Arrays.copyOf(b.array(), b.position()));
    assertThatThrownBy(() -> GgufReader.read(f))
        .isInstanceOf(GgufFormatException.class)
        .hasMessageStartingWith("GGUF file ends at byte 35 while reading metadata key #0");
  }
}
