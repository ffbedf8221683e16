package io.edgeslm.signing.internal.cli;

import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.BundleVerifier;
import io.edgeslm.signing.Freshness;
import io.edgeslm.signing.HighWaterMark;
import io.edgeslm.signing.KeyRole;
import io.edgeslm.signing.NodeFacts;
import io.edgeslm.signing.ReleaseMetadata;
import io.edgeslm.signing.ReleasePolicy;
import io.edgeslm.signing.ReleaseTrack;
import io.edgeslm.signing.TrustStore;
import io.edgeslm.signing.VerificationKey;
import io.edgeslm.signing.VerifiedBundle;
import io.edgeslm.signing.internal.crypto.Hex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Verify MODEL_DIR against its OMS v1.0 signature: the signature over the statement with a"
          + " trusted key first, then every file's SHA-256; missing, extra (unless ignored),"
          + " changed or linked files fail. Prints one line and exits 0 when valid; prints the"
          + " reason on stderr and exits non-zero otherwise.",
      "With --trust-store, keys come from a signed trust root (release role and threshold) and"
          + " the signed release facts (release.json) are printed."
    })
final class VerifyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  static final class Trust {
    @Option(
        names = "--public-key",
        required = true,
        paramLabel = "FILE",
        description = "Trusted PEM public key (repeat to trust several).")
    List<Path> publicKeys;

    @Option(
        names = "--trust-store",
        required = true,
        paramLabel = "FILE",
        description = "Signed trust root (from 'trust init' or 'trust rotate').")
    Path trustStore;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Trust trust;

  /** A node's facts, to run the release policy as that node would (e.g. at a USB station). */
  static final class Node {
    @Option(names = "--node-arch", required = true, paramLabel = "ARCH")
    String arch;

    @Option(names = "--node-device-class", required = true, paramLabel = "CLASS")
    String deviceClass;

    @Option(names = "--node-ram-mb", required = true, paramLabel = "MIB")
    long ramMb;

    @Option(names = "--node-agent-version", required = true, paramLabel = "VERSION")
    String agentVersion;

    @Option(names = "--node-label", paramLabel = "KEY=VALUE", description = "Repeat.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(
        names = "--node-model",
        paramLabel = "NAME",
        description = "Model the node is assigned (default: the release's model).")
    String model;

    @Option(
        names = "--node-channel",
        defaultValue = "stable",
        paramLabel = "CHANNEL",
        description = "Channel the node follows for that model (default stable).")
    String channel;

    @Option(
        names = "--installed-version",
        defaultValue = "0",
        paramLabel = "N",
        description = "The node's high-water mark for the track (default 0: none).")
    long installed;

    @Option(
        names = "--now",
        paramLabel = "INSTANT",
        description = "Evaluate at this time (RFC 3339 UTC; default: now).")
    Instant now;
  }

  @ArgGroup(
      exclusive = false,
      heading =
          "%nRelease policy check (optional): decide as a node with these facts would; exit 4 with"
              + " the reason when it would refuse.%n")
  Node node;

  @Option(
      names = "--root-update",
      paramLabel = "FILE",
      description = "Newer trust roots to apply in order after --trust-store (repeat).")
  List<Path> rootUpdates = new ArrayList<>();

  @Option(names = "--signature", paramLabel = "FILE", description = "Default MODEL_DIR/model.sig.")
  Path signature;

  @Option(
      names = "--ignore-paths",
      paramLabel = "P",
      description = "A file or folder to ignore (repeat for several).")
  List<String> ignorePaths = new ArrayList<>();

  @Parameters(paramLabel = "MODEL_DIR")
  Path modelDir;

  @Override
  public Integer call() throws Exception {
    TrustStore store;
    if (trust.publicKeys != null) {
      List<VerificationKey> keys = new ArrayList<>();
      for (Path p : trust.publicKeys) {
        keys.add(VerificationKey.read(p));
      }
      store = TrustStore.pinned(keys);
    } else {
      store = TrustStore.load(trust.trustStore).rotateAll(rootUpdates);
    }
    PrintWriter out = spec.commandLine().getOut();
    CliSupport.StderrProgress progress = new CliSupport.StderrProgress(spec.commandLine().getErr());
    BundleOptions options =
        BundleOptions.defaults()
            .withSignatureFile(signature)
            .withIgnorePaths(CliSupport.ignoreNames(modelDir, ignorePaths))
            .withProgress(progress);
    long t0 = System.nanoTime();
    VerifiedBundle b = BundleVerifier.of(store).verify(modelDir, options);
    double seconds = (System.nanoTime() - t0) / 1e9;
    out.printf(
        java.util.Locale.ROOT,
        "Verified %s: %d files, %s, root sha256:%s, signed by %s (%s) in %.2f s%n",
        modelDir,
        b.files().size(),
        CliSupport.bytes(b.totalBytes()),
        b.rootDigest(),
        String.join(", ", b.signerKeyIds().stream().map(Hex::abbreviate).sorted().toList()),
        store.describe(),
        seconds);
    if (trust.trustStore != null) {
      printFacts(out, store, b);
    }
    if (node != null) {
      String model = node.model != null ? node.model : b.release().map(r -> r.model()).orElse("");
      Map<ReleaseTrack, HighWaterMark> marks = new LinkedHashMap<>();
      if (node.installed > 0) {
        marks.put(new ReleaseTrack(model, node.channel), HighWaterMark.of(node.installed));
      }
      NodeFacts facts;
      try {
        facts =
            new NodeFacts(
                node.arch,
                node.deviceClass,
                node.ramMb,
                node.labels,
                node.agentVersion,
                Map.of(model, node.channel),
                marks,
                node.now != null ? node.now : Instant.now());
      } catch (IllegalArgumentException e) {
        throw new io.edgeslm.signing.MalformedInputException(
            "Invalid node facts: " + e.getMessage() + ".", e);
      }
      ReleaseMetadata r = ReleasePolicy.standard().check(b, facts);
      out.printf(
          "  policy: a %s %s node with %d MiB would activate %s v%d (%s)%n",
          node.arch, node.deviceClass, node.ramMb, r.model(), r.version(), r.channel());
    }
    return CliSupport.OK;
  }

  private static void printFacts(PrintWriter out, TrustStore store, VerifiedBundle b) {
    out.printf(
        "  trust root: version %d, release threshold %d of %d keys%n",
        store.version(), store.threshold(KeyRole.RELEASE), store.keys(KeyRole.RELEASE).size());
    if (b.release().isEmpty()) {
      out.println(
          "  release: none (no signed release.json; a node's release policy will refuse it)");
      return;
    }
    ReleaseMetadata r = b.release().get();
    ReleaseCommand.printRelease(out, r, "  ");
    out.println("  freshness: " + Freshness.of(r, Instant.now()).describe());
  }
}
