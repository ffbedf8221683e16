package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.KeyRole;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.SigningKey;
import io.edgeslm.signing.TrustRoot;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "trust",
    mixinStandardHelpOptions = true,
    description = {
      "Manage the trust store: a signed root listing trusted keys, their roles (root, release)"
          + " and thresholds. Rotation writes root version N+1, which must be signed by the"
          + " threshold of the current root keys and of the new root keys; a key left out is"
          + " revoked."
    },
    subcommands = {TrustCommand.Init.class, TrustCommand.Rotate.class, TrustCommand.Show.class})
final class TrustCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Options shared by init and rotate: the content of the new root and who signs it. */
  static class RootOptions {
    @Option(
        names = "--root-key",
        required = true,
        paramLabel = "PUB",
        description = "Public key of a root key holder (repeat).")
    List<Path> rootKeys;

    @Option(
        names = "--release-key",
        required = true,
        paramLabel = "PUB",
        description = "Public key allowed to sign bundles (repeat).")
    List<Path> releaseKeys;

    @Option(names = "--root-threshold", defaultValue = "1", paramLabel = "N")
    int rootThreshold;

    @Option(names = "--release-threshold", defaultValue = "1", paramLabel = "N")
    int releaseThreshold;

    @Option(
        names = "--sign-with",
        required = true,
        paramLabel = "PRIV",
        description = "Private key that signs the new root (repeat; each key counts once).")
    List<Path> signers;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "New root file.")
    Path out;

    TrustRoot build(long version) throws Exception {
      List<VerificationKey> root = new ArrayList<>();
      for (Path p : rootKeys) {
        root.add(VerificationKey.read(p));
      }
      List<VerificationKey> release = new ArrayList<>();
      for (Path p : releaseKeys) {
        release.add(VerificationKey.read(p));
      }
      try {
        return TrustRoot.of(version, root, rootThreshold, release, releaseThreshold);
      } catch (IllegalArgumentException e) {
        throw new MalformedInputException("Invalid trust root: " + e.getMessage() + ".", e);
      }
    }

    byte[] sign(TrustRoot root) throws Exception {
      List<SigningKey> keys = new ArrayList<>();
      for (Path p : signers) {
        keys.add(SigningKey.read(p));
      }
      return TrustStore.signRoot(root, keys);
    }

    void write(byte[] bytes) throws SigningIoException {
      try {
        Files.write(out, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      } catch (FileAlreadyExistsException e) {
        throw new SigningIoException(
            "Refusing to overwrite " + out + ": it exists. Choose a new file per root version.", e);
      } catch (IOException e) {
        throw new SigningIoException("Cannot write " + out + ": " + e, e);
      }
    }
  }

  static void show(PrintWriter out, TrustStore store) {
    out.println("trust root version " + store.version());
    for (KeyRole role : KeyRole.values()) {
      List<VerificationKey> keys = store.keys(role);
      out.printf(
          "  role %-8s threshold %d of %d%n", role.jsonName(), store.threshold(role), keys.size());
      for (VerificationKey k : keys) {
        out.println("    " + k.curve() + " " + k.keyId());
      }
    }
  }

  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = "Write the first trust root (version 1), signed by its own root threshold.")
  static final class Init extends RootOptions implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      byte[] signed = sign(build(1));
      // Check exactly what a node will check before anything is written.
      TrustStore store = TrustStore.fromSignedRoot(signed, out.toString());
      write(signed);
      spec.commandLine().getOut().println("Wrote " + out + ":");
      show(spec.commandLine().getOut(), store);
      return CliSupport.OK;
    }
  }

  @Command(
      name = "rotate",
      mixinStandardHelpOptions = true,
      description = {
        "Write the next trust root (current version + 1). --sign-with must include enough current"
            + " root keys and enough new root keys to meet both thresholds."
      })
  static final class Rotate extends RootOptions implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--trust-store",
        required = true,
        paramLabel = "FILE",
        description = "The current trust root.")
    Path current;

    @Option(
        names = "--root-update",
        paramLabel = "FILE",
        description = "Roots already rotated to after --trust-store, in order (repeat).")
    List<Path> updates = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      TrustStore now = TrustStore.load(current).rotateAll(updates);
      byte[] signed = sign(build(now.version() + 1));
      TrustStore next = now.rotate(signed, out.toString());
      write(signed);
      spec.commandLine().getOut().println("Wrote " + out + ":");
      show(spec.commandLine().getOut(), next);
      return CliSupport.OK;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Verify a trust root (and newer roots in order) and print its keys and roles.")
  static final class Show implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Root, then newer roots.")
    List<Path> files;

    @Override
    public Integer call() throws Exception {
      TrustStore store = TrustStore.load(files.get(0)).rotateAll(files.subList(1, files.size()));
      show(spec.commandLine().getOut(), store);
      return CliSupport.OK;
    }
  }
}
