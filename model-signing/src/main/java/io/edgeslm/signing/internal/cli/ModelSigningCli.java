package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.SigningException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code model-signing.jar}. */
@Command(
    name = "model-signing",
    mixinStandardHelpOptions = true,
    version = "model-signing (EdgeSLM) 0.1.0, OpenSSF Model Signing v1.0 key method",
    description = {
      "Sign and verify model directories as OpenSSF Model Signing v1.0 bundles (ECDSA P-256 or"
          + " P-384 keys), write signed release metadata and manage the fleet trust store.",
      ""
    },
    subcommands = {
      KeygenCommand.class,
      SignCommand.class,
      VerifyCommand.class,
      InspectCommand.class,
      ReleaseCommand.class,
      TrustCommand.class,
      CommandLine.HelpCommand.class
    },
    footerHeading = "%nExit codes:%n",
    footer = {
      "  0  success",
      "  1  tampered: a file or the signature changed after signing",
      "  2  usage error",
      "  3  untrusted: unsigned, unknown or revoked key, or below the threshold",
      "  4  refused by the release policy",
      "  5  malformed input or a size bound exceeded",
      "  6  file system error"
    })
public final class ModelSigningCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    // Load Jackson and the EC code on a second core while picocli parses the command line: they
    // cost a few hundred milliseconds of class loading that verification would otherwise wait for.
    Thread.ofPlatform().daemon().name("class-warmup").start(ModelSigningCli::warmUp);
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  private static void warmUp() {
    try {
      io.edgeslm.signing.internal.json.StrictJson.parseObject(
          "{\"a\":[1]}".getBytes(java.nio.charset.StandardCharsets.US_ASCII), "warm-up");
      io.edgeslm.signing.internal.crypto.Ecdsa.domain(io.edgeslm.signing.KeyCurve.P256.oid());
    } catch (SigningException | RuntimeException e) {
      // Only a speed-up: the real work reports any problem itself.
    }
  }

  /** Runs the CLI with the given streams and returns the exit code (used by tests). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new ModelSigningCli());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (ex, line, parseResult) -> {
          if (ex instanceof SigningException se) {
            line.getErr().println("error: " + se.getMessage());
            line.getErr().flush();
            return CliSupport.exitCode(se);
          }
          throw ex;
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }
}
