package io.edgeslm.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A container's environment resolved the way the kubelet does it: {@code envFrom} ConfigMaps first,
 * then {@code env} in order, with {@code $(NAME)} replaced by a variable defined before it, {@code
 * fieldRef}s, ConfigMap keys and Secret keys looked up. For running the real application outside a
 * pod, absolute paths can then be moved below a directory standing in for the pod's file system.
 */
final class PodEnv {
  private static final Pattern REF = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
  private static final Pattern PATH = Pattern.compile("(^|[\\s=,])(/[^\\s,]*)");

  private PodEnv() {}

  /**
   * @param fields values of {@code fieldRef} paths ({@code metadata.name}, {@code spec.nodeName})
   * @param secrets values of Secret keys, as {@code name/key}
   */
  static Map<String, String> resolve(
      Rendered r, Container c, Map<String, String> fields, Map<String, String> secrets) {
    Map<String, String> env = new LinkedHashMap<>();
    if (c.getEnvFrom() != null) {
      for (EnvFromSource f : c.getEnvFrom()) {
        env.putAll(r.get(ConfigMap.class, f.getConfigMapRef().getName()).getData());
      }
    }
    for (EnvVar v : c.getEnv()) {
      String value;
      if (v.getValueFrom() == null) {
        value = expand(v.getValue() == null ? "" : v.getValue(), env);
      } else if (v.getValueFrom().getFieldRef() != null) {
        value = require(fields, v.getValueFrom().getFieldRef().getFieldPath(), v);
      } else if (v.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = v.getValueFrom().getConfigMapKeyRef();
        value = r.get(ConfigMap.class, ref.getName()).getData().get(ref.getKey());
      } else if (v.getValueFrom().getSecretKeyRef() != null) {
        var ref = v.getValueFrom().getSecretKeyRef();
        value = require(secrets, ref.getName() + "/" + ref.getKey(), v);
      } else {
        throw new AssertionError("Cannot resolve env " + v.getName() + ": " + v.getValueFrom());
      }
      env.put(v.getName(), value);
    }
    return env;
  }

  /** Every absolute path in every value (also inside -Dkey=/path options) moved below root. */
  static Map<String, String> reRoot(Map<String, String> env, Path root) {
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : env.entrySet()) {
      String v = e.getValue();
      if (v == null || v.contains("://")) {
        out.put(e.getKey(), v);
        continue;
      }
      Matcher m = PATH.matcher(v);
      StringBuilder b = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(b, Matcher.quoteReplacement(m.group(1) + root + m.group(2)));
      }
      m.appendTail(b);
      out.put(e.getKey(), b.toString());
    }
    return out;
  }

  private static String expand(String value, Map<String, String> defined) {
    Matcher m = REF.matcher(value);
    StringBuilder b = new StringBuilder();
    while (m.find()) {
      String v = defined.get(m.group(1));
      // The kubelet leaves a reference to an undefined variable as it is.
      m.appendReplacement(b, Matcher.quoteReplacement(v != null ? v : m.group()));
    }
    m.appendTail(b);
    return b.toString();
  }

  private static String require(Map<String, String> values, String key, EnvVar v) {
    String value = values.get(key);
    if (value == null) {
      throw new AssertionError("The test gives no value for " + key + " (env " + v.getName() + ")");
    }
    return value;
  }
}
