package io.edgeslm.signing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Fixtures and file helpers shared by the tests. */
final class TestBundles {
  private TestBundles() {}

  /** A test resource folder or file, as a path on disk. */
  static Path resource(String name) {
    try {
      return Path.of(TestBundles.class.getResource("/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("test resource missing: " + name, e);
    }
  }

  /** Copies a fixture folder into {@code target}/{@code name} so a test may change it. */
  static Path copyFixture(String name, Path target) throws IOException {
    Path src = resource(name);
    Path dst = target.resolve(src.getFileName().toString());
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : s.sorted(Comparator.naturalOrder()).toList()) {
        Path q = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q, StandardCopyOption.REPLACE_EXISTING);
          q.toFile().setWritable(true);
        }
      }
    }
    return dst;
  }

  static VerificationKey upstreamKey() throws SigningException {
    return VerificationKey.read(resource("oms-upstream/signing-key-pub.pem"));
  }

  static Path write(Path dir, String name, String content) {
    return write(dir, name, content.getBytes(StandardCharsets.UTF_8));
  }

  static Path write(Path dir, String name, byte[] content) {
    try {
      Path p = dir.resolve(name);
      Files.createDirectories(p.getParent());
      Files.write(p, content);
      return p;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** XORs one byte of a file with {@code mask}. */
  static void xorByte(Path file, int position, int mask) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[position] ^= (byte) mask;
    Files.write(file, b);
  }

  static BundleOptions ignoring(String... names) {
    return BundleOptions.defaults().withIgnorePaths(List.of(names));
  }

  /** A statement JSON listing these files (name, content) with a correct root digest. */
  static String statementJson(
      String subject, java.util.Map<String, byte[]> files, String hashType) {
    java.security.MessageDigest root = io.edgeslm.signing.internal.crypto.Digests.sha256();
    StringBuilder res = new StringBuilder();
    for (var e : files.entrySet()) {
      byte[] d = io.edgeslm.signing.internal.crypto.Digests.sha256(e.getValue());
      root.update(d);
      if (!res.isEmpty()) {
        res.append(',');
      }
      res.append("{\"name\":\"")
          .append(e.getKey())
          .append("\",\"algorithm\":\"")
          .append(hashType)
          .append("\",\"digest\":\"")
          .append(io.edgeslm.signing.internal.crypto.Hex.encode(d))
          .append("\"}");
    }
    return """
        {"_type":"https://in-toto.io/Statement/v1",
         "subject":[{"name":"%s","digest":{"sha256":"%s"}}],
         "predicateType":"https://model_signing/signature/v1.0",
         "predicate":{"serialization":{"method":"files","hash_type":"%s","allow_symlinks":false,
           "ignore_paths":["model.sig"]},
           "resources":[%s]}}"""
        .formatted(
            subject, io.edgeslm.signing.internal.crypto.Hex.encode(root.digest()), hashType, res);
  }

  /** Writes model.sig carrying exactly these statement bytes, validly signed by {@code key}. */
  static void signStatement(SigningKey key, byte[] statement, Path sigFile) throws IOException {
    byte[] pae =
        io.edgeslm.signing.internal.crypto.Dsse.pae("application/vnd.in-toto+json", statement);
    Files.write(
        sigFile,
        io.edgeslm.signing.internal.bundle.SigstoreBundleCodec.write(
            statement, List.of(key.sign(pae)), key.verificationKey().keyId()));
  }

  /** A release for track plant-reporter@stable, valid until 2030, for x86_64 gateways. */
  static ReleaseMetadata release(long version) {
    return new ReleaseMetadata(
        1,
        "plant-reporter",
        version,
        "stable",
        java.time.Instant.parse("2030-01-01T00:00:00Z"),
        new TargetSelector(
            java.util.Set.of("x86_64"),
            java.util.Set.of("gateway-m"),
            4096,
            java.util.Map.of("site", "plant-7")),
        "1.2.0",
        "model.gguf",
        java.util.Optional.empty(),
        "{\"report\":{\"maxTokens\":256}}");
  }

  /** A node that matches {@link #release}, at 2026-11-21, with the given marks. */
  static NodeFacts node(java.util.Map<ReleaseTrack, HighWaterMark> marks) {
    return new NodeFacts(
        "x86_64",
        "gateway-m",
        8192,
        java.util.Map.of("site", "plant-7", "line", "3"),
        "1.4.0",
        java.util.Map.of("plant-reporter", "stable"),
        marks,
        java.time.Instant.parse("2026-11-21T00:00:00Z"));
  }

  /** A small model directory: weights, a tokenizer file in a subfolder, release.json. */
  static Path model(Path parent, String name, ReleaseMetadata release) {
    Path dir = parent.resolve(name);
    byte[] weights = new byte[70_000];
    new java.util.Random(name.hashCode()).nextBytes(weights);
    write(dir, "model.gguf", weights);
    write(dir, "prompts/system.txt", "You write short plant reports.\n");
    if (release != null) {
      write(dir, "release.json", release.toJson());
    }
    return dir;
  }
}
