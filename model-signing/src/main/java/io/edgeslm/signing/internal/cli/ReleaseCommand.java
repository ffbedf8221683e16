package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.BundleLimits;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.ReleaseKind;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.TargetSelector;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "release",
    mixinStandardHelpOptions = true,
    description = "Write and inspect release.json, the signed release metadata of a bundle.",
    subcommands = {ReleaseCommand.Init.class, ReleaseCommand.Show.class})
final class ReleaseCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static void printRelease(PrintWriter out, ReleaseMetadata r, String indent) {
    TargetSelector t = r.target();
    out.println(indent + "model:           " + r.model());
    out.println(indent + "version:         " + r.version());
    out.println(indent + "channel:         " + r.channel());
    out.println(indent + "expires:         " + r.expires());
    out.println(
        indent
            + "target:          architectures="
            + (t.architectures().isEmpty() ? "any" : t.architectures())
            + " deviceClasses="
            + (t.deviceClasses().isEmpty() ? "any" : t.deviceClasses())
            + " minRamMb="
            + t.minRamMb()
            + " labels="
            + (t.labels().isEmpty() ? "none" : t.labels()));
    out.println(indent + "minAgentVersion: " + r.minAgentVersion());
    out.println(indent + "modelFile:       " + r.modelFile());
    out.println(indent + "evaluationFile:  " + r.evaluationFile().orElse("(none)"));
    out.println(indent + "tasks:           " + r.taskConfigJson());
    out.println(indent + "kind:            " + r.kind().jsonName());
    r.baseModelDigest().ifPresent(d -> out.println(indent + "baseModelDigest: " + d));
  }

  @Command(
      name = "init",
      description = {
        "Write release.json. Put it in the model directory before 'sign' so that it is signed"
            + " with the model."
      })
  static final class Init implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Option(names = "--model", required = true, description = "Model name (lowercase token).")
    String model;

    @Option(
        names = "--version",
        required = true,
        paramLabel = "N",
        description = "Release version: an integer above every earlier one on this track.")
    long version;

    @Option(names = "--channel", defaultValue = "stable", description = "Default: stable.")
    String channel;

    @Option(
        names = "--expires",
        paramLabel = "INSTANT",
        description =
            "Expiry, RFC 3339 UTC (e.g. 2027-01-31T00:00:00Z). Default: now + --valid-days.")
    String expires;

    @Option(
        names = "--valid-days",
        defaultValue = "90",
        paramLabel = "DAYS",
        description = "Validity when --expires is not given (default 90).")
    long validDays;

    @Option(names = "--arch", paramLabel = "ARCH", description = "x86_64 or aarch64 (repeat).")
    List<String> architectures = List.of();

    @Option(names = "--device-class", paramLabel = "CLASS", description = "Repeat for several.")
    List<String> deviceClasses = List.of();

    @Option(names = "--min-ram-mb", defaultValue = "0", paramLabel = "MIB")
    long minRamMb;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "Required node label.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--min-agent-version", defaultValue = "0.1.0", paramLabel = "VERSION")
    String minAgentVersion;

    @Option(
        names = "--model-file",
        required = true,
        paramLabel = "NAME",
        description = "The GGUF file's name inside the model directory.")
    String modelFile;

    @Option(
        names = "--evaluation-file",
        paramLabel = "NAME",
        description = "Activation-check file inside the model directory (optional).")
    String evaluationFile;

    @Option(
        names = "--tasks",
        paramLabel = "FILE",
        description = "JSON object with the task configuration (optional).")
    Path tasks;

    @Option(
        names = "--kind",
        defaultValue = "model",
        paramLabel = "KIND",
        description = "model (default) or adapter (a LoRA adapter; needs --base-model-digest).")
    String kind;

    @Option(
        names = "--base-model-digest",
        paramLabel = "DIGEST",
        description =
            "For --kind adapter: sha256:… digest of the signed base model bundle the adapter"
                + " applies to (the root digest 'sign' or 'verify' prints).")
    String baseModelDigest;

    @Option(
        names = "--out",
        defaultValue = "release.json",
        paramLabel = "FILE",
        description = "Output file (default ./release.json; never overwritten without --force).")
    Path out;

    @Option(names = "--force", description = "Overwrite --out if it exists.")
    boolean force;

    @Override
    public Integer call() throws Exception {
      Instant exp;
      if (expires != null) {
        try {
          exp = Instant.parse(expires);
        } catch (DateTimeParseException e) {
          throw new MalformedInputException(
              "--expires '"
                  + expires
                  + "' is not an RFC 3339 UTC instant such as"
                  + " 2027-01-31T00:00:00Z.",
              e);
        }
      } else {
        exp = Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofDays(validDays));
      }
      String taskJson = "{}";
      if (tasks != null) {
        try {
          if (Files.size(tasks) > BundleLimits.DEFAULT_MAX_RELEASE_BYTES / 2) {
            throw new MalformedInputException(
                tasks + " is too large for release.json; put large task data in its own file.");
          }
          taskJson = Files.readString(tasks, StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new SigningIoException("Cannot read " + tasks + ": " + e, e);
        }
      }
      ReleaseKind releaseKind =
          ReleaseKind.ofJsonName(kind)
              .orElseThrow(
                  () ->
                      new MalformedInputException(
                          "--kind '" + kind + "' must be 'model' or 'adapter'."));
      ReleaseMetadata r;
      try {
        r =
            new ReleaseMetadata(
                ReleaseMetadata.SCHEMA_VERSION,
                model,
                version,
                channel,
                exp,
                new TargetSelector(
                    new LinkedHashSet<>(architectures),
                    new LinkedHashSet<>(deviceClasses),
                    minRamMb,
                    labels),
                minAgentVersion,
                modelFile,
                Optional.ofNullable(evaluationFile),
                taskJson,
                releaseKind,
                Optional.ofNullable(baseModelDigest));
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException("Invalid release metadata: " + e.getMessage() + ".", e);
      }
      try {
        if (force) {
          Files.write(out, r.toJson());
        } else {
          Files.write(out, r.toJson(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
      } catch (FileAlreadyExistsException e) {
        throw new SigningIoException(
            "Refusing to overwrite " + out + ": it exists. Pass --force to replace it.", e);
      } catch (IOException e) {
        throw new SigningIoException("Cannot write " + out + ": " + e, e);
      }
      spec.commandLine()
          .getOut()
          .printf(
              "Wrote %s: %s v%d (%s), expires %s. Sign the model directory next.%n",
              out, model, version, channel, exp);
      return CliSupport.OK;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print release.json.")
  static final class Show implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Override
    public Integer call() throws Exception {
      byte[] bytes;
      try {
        if (Files.size(file) > BundleLimits.DEFAULT_MAX_RELEASE_BYTES) {
          throw new MalformedInputException(
              file + " is larger than " + BundleLimits.DEFAULT_MAX_RELEASE_BYTES + " bytes.");
        }
        bytes = Files.readAllBytes(file);
      } catch (IOException e) {
        throw new SigningIoException("Cannot read " + file + ": " + e, e);
      }
      ReleaseMetadata r = ReleaseMetadata.parse(bytes, file.toString());
      PrintWriter out = spec.commandLine().getOut();
      out.println(file + " (unsigned view; 'verify' checks it is the signed one)");
      printRelease(out, r, "  ");
      return CliSupport.OK;
    }
  }
}
