package io.edgeslm.agent.internal.serving;

import io.edgeslm.protocol.ModelRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/** The identity of a plain GGUF file: a name, a version and the file's SHA-256. */
final class ModelIdentity {

  private ModelIdentity() {}

  static ModelRef of(Path gguf, Optional<String> name, long version) throws IOException {
    return ModelRef.of(name.orElseGet(() -> nameOf(gguf)), version, "sha256:" + sha256(gguf));
  }

  /** The file name without {@code .gguf}, reduced to identifier characters. */
  static String nameOf(Path gguf) {
    String file = gguf.getFileName().toString();
    if (file.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
      file = file.substring(0, file.length() - 5);
    }
    String cleaned = file.replaceAll("[^A-Za-z0-9._:-]", "-").replaceAll("^[^A-Za-z0-9]+", "");
    if (cleaned.length() > 128) {
      cleaned = cleaned.substring(0, 128);
    }
    return cleaned.isEmpty() ? "model" : cleaned;
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
