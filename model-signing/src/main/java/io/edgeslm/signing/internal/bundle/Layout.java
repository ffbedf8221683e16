package io.edgeslm.signing.internal.bundle;

import io.edgeslm.signing.BundleOptions;
import io.edgeslm.signing.MalformedInputException;
import io.edgeslm.signing.SigningException;
import io.edgeslm.signing.SigningIoException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where the model directory and its signature file are, and which names are ignored.
 *
 * @param signatureName the signature file's name inside the model directory, or null when it lives
 *     elsewhere
 */
public record Layout(
    Path root, Path signatureFile, String signatureName, List<String> callerIgnores) {

  public static Layout resolve(Path modelDir, BundleOptions options) throws SigningException {
    Path root;
    try {
      root = modelDir.toRealPath();
    } catch (IOException e) {
      throw new SigningIoException(
          "Model directory " + modelDir + " cannot be opened: " + e + ". Check the path.", e);
    }
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new MalformedInputException(
          modelDir + " is not a directory. Pass the model directory (the folder with the files).");
    }
    Path sig =
        options.signatureFile() == null
            ? root.resolve(OmsFormat.DEFAULT_SIGNATURE_NAME)
            : realParent(options.signatureFile());
    String sigName = sig.startsWith(root) ? ResourceNames.relativeName(root, sig) : null;
    List<String> ignores = new ArrayList<>();
    for (String p : options.ignorePaths()) {
      String name = p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
      Optional<String> bad = ResourceNames.violation(name, options.limits().maxNameLength());
      if (bad.isPresent()) {
        throw new MalformedInputException(
            "Ignore path '"
                + p
                + "' breaks a rule: "
                + bad.get()
                + ". Give ignore paths relative to the model directory "
                + root
                + ".");
      }
      ignores.add(name);
    }
    return new Layout(root, sig, sigName, List.copyOf(ignores));
  }

  /** The ignore set for walking: defaults, the signature file, the caller's and the statement's. */
  public Set<String> ignoreSet(List<String> fromStatement) {
    Set<String> all = new LinkedHashSet<>(OmsFormat.DEFAULT_IGNORE_PATHS);
    if (signatureName != null) {
      all.add(signatureName);
    }
    all.addAll(callerIgnores);
    if (fromStatement != null) {
      all.addAll(fromStatement);
    }
    return all;
  }

  private static Path realParent(Path file) throws SigningIoException {
    Path abs = file.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    try {
      return parent == null ? abs : parent.toRealPath().resolve(abs.getFileName());
    } catch (IOException e) {
      throw new SigningIoException(
          "Folder of signature file " + file + " cannot be opened: " + e + ". Check the path.", e);
    }
  }
}
