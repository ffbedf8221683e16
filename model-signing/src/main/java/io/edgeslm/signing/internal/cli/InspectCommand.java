package io.edgeslm.signing.internal.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.signing.BundleLimits;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.SigningIoException;
import io.edgeslm.signing.internal.bundle.OmsFormat;
import io.edgeslm.signing.internal.bundle.SigstoreBundleCodec;
import io.edgeslm.signing.internal.json.StrictJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    description = {
      "Print a signature file's statement readably: subject, root digest, serialization and every"
          + " resource. Nothing is verified: use 'verify' before trusting any of it."
    })
final class InspectCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(paramLabel = "MODEL_DIR|SIGNATURE", description = "A model directory or model.sig.")
  Path target;

  @Override
  public Integer call() throws Exception {
    Path sig =
        Files.isDirectory(target) ? target.resolve(OmsFormat.DEFAULT_SIGNATURE_NAME) : target;
    BundleLimits limits = BundleLimits.defaults();
    byte[] bytes;
    try {
      if (Files.size(sig) > limits.maxSignatureFileBytes()) {
        throw new MalformedInputException(
            sig + " is larger than " + limits.maxSignatureFileBytes() + " bytes; not a model.sig.");
      }
      bytes = Files.readAllBytes(sig);
    } catch (IOException e) {
      throw new SigningIoException("Cannot read " + sig + ": " + e, e);
    }
    SigstoreBundleCodec.Envelope env = SigstoreBundleCodec.parse(bytes, limits, sig.toString());
    JsonNode st = StrictJson.parseObject(env.payload(), sig + " statement");
    PrintWriter out = spec.commandLine().getOut();
    out.println("UNVERIFIED contents of " + sig + " (run 'verify' to check them)");
    out.println("  key hint:      " + (env.keyHint() == null ? "(none)" : env.keyHint()));
    out.println("  signatures:    " + env.signatures().size());
    out.println("  payload type:  " + env.payloadType());
    out.println("  statement:     " + st.path("_type").asText());
    out.println("  predicate:     " + st.path("predicateType").asText());
    JsonNode subject = st.path("subject").path(0);
    out.println("  subject:       " + subject.path("name").asText());
    out.println("  root digest:   sha256:" + subject.path("digest").path("sha256").asText());
    JsonNode ser = st.path("predicate").path("serialization");
    out.println(
        "  serialization: method="
            + ser.path("method").asText()
            + " hash_type="
            + ser.path("hash_type").asText()
            + " allow_symlinks="
            + ser.path("allow_symlinks").asText()
            + (ser.has("ignore_paths") ? " ignore_paths=" + ser.get("ignore_paths") : ""));
    JsonNode res = st.path("predicate").path("resources");
    out.println("  resources:     " + res.size());
    for (JsonNode r : res) {
      out.println(
          "    "
              + r.path("algorithm").asText()
              + ":"
              + r.path("digest").asText()
              + "  "
              + r.path("name").asText());
    }
    out.flush();
    return CliSupport.OK;
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
