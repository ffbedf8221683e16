package io.edgeslm.signing.internal.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI in-process: commands, exit codes and what they print. */
class CliTest {
  @TempDir Path tmp;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ModelSigningCli.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Result(code, out.toString(), err.toString());
  }

  private Path model() throws Exception {
    Path dir = tmp.resolve("plant-reporter");
    Files.createDirectories(dir);
    byte[] w = new byte[50_000];
    new Random(7).nextBytes(w);
    Files.write(dir.resolve("model.gguf"), w);
    Files.writeString(dir.resolve("eval.jsonl"), "{\"q\":\"temp?\",\"a\":\"21\"}\n");
    return dir;
  }

  private String p(String name) {
    return tmp.resolve(name).toString();
  }

  @Test
  void keygenSignVerify_validBundle_exitsZeroWithOneLine() throws Exception {
    Path dir = model();
    assertThat(run("keygen", "--private-key", p("k.pem"), "--public-key", p("k.pub")).code())
        .isZero();
    Result rel =
        run(
            "release",
            "init",
            "--model",
            "plant-reporter",
            "--version",
            "3",
            "--channel",
            "stable",
            "--expires",
            "2030-01-01T00:00:00Z",
            "--arch",
            "x86_64",
            "--label",
            "site=p7",
            "--model-file",
            "model.gguf",
            "--evaluation-file",
            "eval.jsonl",
            "--out",
            dir.resolve("release.json").toString());
    assertThat(rel.code()).as(rel.err()).isZero();
    Result sign = run("sign", "--private-key", p("k.pem"), dir.toString());
    assertThat(sign.code()).as(sign.err()).isZero();
    assertThat(sign.out()).startsWith("Signed " + dir + ": 3 files, ");

    Result verify = run("verify", "--public-key", p("k.pub"), dir.toString());
    assertThat(verify.code()).as(verify.err()).isZero();
    assertThat(verify.out().lines()).hasSize(1);
    assertThat(verify.out()).startsWith("Verified " + dir + ": 3 files, ");
    assertThat(verify.err()).isEmpty();

    Result inspect = run("inspect", dir.toString());
    assertThat(inspect.out())
        .contains("UNVERIFIED contents of")
        .contains("  eval.jsonl")
        .contains("  release.json")
        .contains("  model.gguf");
    assertThat(run("release", "show", dir.resolve("release.json").toString()).out())
        .contains("version:         3")
        .contains("evaluationFile:  eval.jsonl");
  }

  @Test
  void verify_tamperedFile_exitsOneWithReasonOnStderr() throws Exception {
    Path dir = model();
    run("keygen", "--curve", "p384", "--private-key", p("k.pem"), "--public-key", p("k.pub"));
    run("sign", "--private-key", p("k.pem"), dir.toString());
    Files.writeString(dir.resolve("eval.jsonl"), "{}\n");

    Result r = run("verify", "--public-key", p("k.pub"), dir.toString());
    assertThat(r.code()).isEqualTo(CliSupport.TAMPERED);
    assertThat(r.out()).isEmpty();
    assertThat(r.err())
        .startsWith("error: Digest mismatch for 'eval.jsonl': signed sha256:")
        .endsWith("The file changed after signing; re-copy the bundle or re-sign it.\n");
  }

  @Test
  void verify_otherKey_exitsThree_andUsageErrorExitsTwo() throws Exception {
    Path dir = model();
    run("keygen", "--private-key", p("a.pem"), "--public-key", p("a.pub"));
    run("keygen", "--private-key", p("b.pem"), "--public-key", p("b.pub"));
    run("sign", "--private-key", p("a.pem"), dir.toString());
    assertThat(run("verify", "--public-key", p("b.pub"), dir.toString()).code())
        .isEqualTo(CliSupport.UNTRUSTED);
    assertThat(run("verify", dir.toString()).code()).isEqualTo(CliSupport.USAGE);
    assertThat(
            run("keygen", "--curve", "p521", "--private-key", p("c"), "--public-key", p("d"))
                .code())
        .isEqualTo(CliSupport.MALFORMED);
  }

  @Test
  void signatureElsewhere_andIgnorePaths_workLikeTheReferenceCli() throws Exception {
    Path dir = model();
    Files.writeString(dir.resolve("notes.txt"), "scratch\n");
    run("keygen", "--private-key", p("k.pem"), "--public-key", p("k.pub"));
    Result s =
        run(
            "sign",
            "--private-key",
            p("k.pem"),
            "--signature",
            p("out.sig"),
            "--ignore-paths",
            dir.resolve("notes.txt").toString(),
            dir.toString());
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(Files.exists(dir.resolve("model.sig"))).isFalse();
    Files.writeString(dir.resolve("notes.txt"), "changed scratch\n");
    Result v =
        run("verify", "--public-key", p("k.pub"), "--signature", p("out.sig"), dir.toString());
    assertThat(v.code()).as(v.err()).isZero();
  }

  @Test
  void trustInitRotateShow_andVerifyWithTrustStorePrintsReleaseFacts() throws Exception {
    Path dir = model();
    for (String k : new String[] {"root1", "root2", "rel1", "rel2"}) {
      run("keygen", "--private-key", p(k + ".pem"), "--public-key", p(k + ".pub"));
    }
    Result init =
        run(
            "trust",
            "init",
            "--root-key",
            p("root1.pub"),
            "--release-key",
            p("rel1.pub"),
            "--sign-with",
            p("root1.pem"),
            "--out",
            p("root.1.json"));
    assertThat(init.code()).as(init.err()).isZero();
    assertThat(init.out()).contains("trust root version 1");

    run(
        "release",
        "init",
        "--model",
        "plant-reporter",
        "--version",
        "4",
        "--model-file",
        "model.gguf",
        "--out",
        dir.resolve("release.json").toString());
    run("sign", "--private-key", p("rel1.pem"), dir.toString());
    Result v = run("verify", "--trust-store", p("root.1.json"), dir.toString());
    assertThat(v.code()).as(v.err()).isZero();
    assertThat(v.out())
        .contains("(trust root version 1)")
        .contains("trust root: version 1, release threshold 1 of 1 keys")
        .contains("model:           plant-reporter")
        .contains("version:         4")
        .contains("freshness: Release plant-reporter@stable v4 is valid until");

    // Rotation to root2 + rel2 needs the old root key and the new one.
    Result bad =
        run(
            "trust",
            "rotate",
            "--trust-store",
            p("root.1.json"),
            "--root-key",
            p("root2.pub"),
            "--release-key",
            p("rel2.pub"),
            "--sign-with",
            p("root2.pem"),
            "--out",
            p("root.2.json"));
    assertThat(bad.code()).isEqualTo(CliSupport.UNTRUSTED);
    assertThat(bad.err()).contains("below its threshold of 1");
    assertThat(Files.exists(tmp.resolve("root.2.json"))).isFalse();
    Result ok =
        run(
            "trust",
            "rotate",
            "--trust-store",
            p("root.1.json"),
            "--root-key",
            p("root2.pub"),
            "--release-key",
            p("rel2.pub"),
            "--sign-with",
            p("root1.pem"),
            "--sign-with",
            p("root2.pem"),
            "--out",
            p("root.2.json"));
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(run("trust", "show", p("root.1.json"), p("root.2.json")).out())
        .startsWith("trust root version 2");
    Result revoked =
        run(
            "verify",
            "--trust-store",
            p("root.1.json"),
            "--root-update",
            p("root.2.json"),
            dir.toString());
    assertThat(revoked.code()).isEqualTo(CliSupport.UNTRUSTED);
  }

  @Test
  void verify_withNodeFacts_runsTheReleasePolicy() throws Exception {
    Path dir = model();
    run("keygen", "--private-key", p("k.pem"), "--public-key", p("k.pub"));
    run(
        "release",
        "init",
        "--model",
        "plant-reporter",
        "--version",
        "5",
        "--expires",
        "2030-01-01T00:00:00Z",
        "--arch",
        "x86_64",
        "--min-ram-mb",
        "4096",
        "--model-file",
        "model.gguf",
        "--out",
        dir.resolve("release.json").toString());
    run("sign", "--private-key", p("k.pem"), dir.toString());
    String[] node = {
      "--node-arch",
      "x86_64",
      "--node-device-class",
      "gateway-m",
      "--node-ram-mb",
      "8192",
      "--node-agent-version",
      "1.0.0",
      "--now",
      "2026-11-21T00:00:00Z"
    };
    java.util.List<String> args =
        new java.util.ArrayList<>(java.util.List.of("verify", "--public-key", p("k.pub")));
    args.addAll(java.util.List.of(node));
    args.add(dir.toString());
    Result ok = run(args.toArray(String[]::new));
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out())
        .contains(
            "  policy: a x86_64 gateway-m node with 8192 MiB would activate plant-reporter v5"
                + " (stable)");

    args.add(args.size() - 1, "--installed-version");
    args.add(args.size() - 1, "5");
    Result rollback = run(args.toArray(String[]::new));
    assertThat(rollback.code()).isEqualTo(CliSupport.POLICY);
    assertThat(rollback.err())
        .isEqualTo(
            "error: Release plant-reporter v5 (stable) is not newer than the installed high-water"
                + " mark v5 for plant-reporter@stable (rule: versions only increase). Refusing a"
                + " rollback; publish version 6 or higher.\n");
  }

  @Test
  void help_listsEveryCommandAndExitCodes() {
    Result r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("keygen", "sign", "verify", "inspect", "release", "trust", "Exit codes:");
  }

  private Result releaseInit(Path dir, String... extra) {
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of(
                "release",
                "init",
                "--model",
                "plant-reporter-lora",
                "--version",
                "1",
                "--expires",
                "2030-01-01T00:00:00Z",
                "--model-file",
                "model.gguf",
                "--out",
                dir.resolve("release.json").toString()));
    args.addAll(java.util.List.of(extra));
    return run(args.toArray(String[]::new));
  }

  @Test
  void releaseInit_adapterForTheSignedBase_signsAndShowsTheBaseDigest() throws Exception {
    Path base = model();
    run("keygen", "--private-key", p("k.pem"), "--public-key", p("k.pub"));
    Result signBase = run("sign", "--private-key", p("k.pem"), base.toString());
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("root (sha256:[0-9a-f]{64})").matcher(signBase.out());
    assertThat(m.find()).as(signBase.out()).isTrue();
    String baseDigest = m.group(1);
    Path adapter = tmp.resolve("adapter");
    Files.createDirectories(adapter);
    Files.write(adapter.resolve("model.gguf"), new byte[] {1, 2, 3});

    Result missing = releaseInit(adapter, "--kind", "adapter");
    assertThat(missing.code()).isEqualTo(CliSupport.MALFORMED);
    assertThat(missing.err()).contains("kind 'adapter' requires baseModelDigest");
    assertThat(adapter.resolve("release.json")).doesNotExist();

    Result init = releaseInit(adapter, "--kind", "adapter", "--base-model-digest", baseDigest);
    assertThat(init.code()).as(init.err()).isZero();
    assertThat(run("sign", "--private-key", p("k.pem"), adapter.toString()).code()).isZero();
    Result verify = run("verify", "--public-key", p("k.pub"), adapter.toString());
    assertThat(verify.code()).as(verify.err()).isZero();
    assertThat(run("release", "show", adapter.resolve("release.json").toString()).out())
        .contains("kind:            adapter")
        .contains("baseModelDigest: " + baseDigest);
  }

  @Test
  void releaseInit_unknownKind_refusedNamingTheChoices() throws Exception {
    Path dir = model();
    Result r = releaseInit(dir, "--kind", "lora");
    assertThat(r.code()).isEqualTo(CliSupport.MALFORMED);
    assertThat(r.err()).contains("--kind 'lora' must be 'model' or 'adapter'.");
  }
}
