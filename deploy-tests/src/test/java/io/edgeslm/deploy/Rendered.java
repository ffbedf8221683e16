package io.edgeslm.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One overlay rendered by {@code kubectl kustomize} and read into the fabric8 Kubernetes model,
 * strictly: an unknown kind, a wrong apiVersion for the kind, a field the API schema does not have
 * (anywhere in the tree) or a value of the wrong type fails.
 */
final class Rendered {
  /** The kinds our manifests may use, with the model class that defines each one's schema. */
  static final Map<String, Class<? extends HasMetadata>> KINDS =
      Map.of(
          "Namespace", Namespace.class,
          "ConfigMap", ConfigMap.class,
          "Secret", Secret.class,
          "Service", Service.class,
          "PersistentVolumeClaim", PersistentVolumeClaim.class,
          "Deployment", Deployment.class,
          "StatefulSet", StatefulSet.class,
          "DaemonSet", DaemonSet.class,
          "Ingress", Ingress.class,
          "PodDisruptionBudget", PodDisruptionBudget.class);

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * fabric8's model classes keep unknown fields in an "additional properties" map instead of
   * failing, so strictness is checked by walking the tree afterwards ({@link #unknownFields}); the
   * mapper itself refuses type coercions ("2" for an integer, 1 for a boolean).
   */
  private static final ObjectMapper STRICT =
      JsonMapper.builder()
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .build();

  private static final Map<String, Rendered> CACHE = new ConcurrentHashMap<>();

  final String overlay;
  final String yaml;
  final List<HasMetadata> objects;

  private Rendered(String overlay, String yaml, List<HasMetadata> objects) {
    this.overlay = overlay;
    this.yaml = yaml;
    this.objects = objects;
  }

  /** Renders {@code deploy/k3s/<relative>} once per test run. */
  static Rendered of(String relative) {
    return CACHE.computeIfAbsent(
        relative,
        r -> {
          try {
            return render(r, Repo.k3s().resolve(r));
          } catch (IOException e) {
            throw new AssertionError("Could not render " + r + ": " + e, e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted rendering " + r, e);
          }
        });
  }

  private static Rendered render(String name, Path dir) throws IOException, InterruptedException {
    String yaml = Kubectl.kustomize(dir);
    List<HasMetadata> objects = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc == null || doc.isNull() || doc.isEmpty()) {
          continue;
        }
        objects.add(strict(name, doc));
      }
    }
    if (objects.isEmpty()) {
      throw new AssertionError(name + " rendered no objects");
    }
    return new Rendered(name, yaml, objects);
  }

  static HasMetadata strict(String where, JsonNode doc) {
    String kind = doc.path("kind").asText("");
    String apiVersion = doc.path("apiVersion").asText("");
    String name = doc.path("metadata").path("name").asText("?");
    Class<? extends HasMetadata> type = KINDS.get(kind);
    if (type == null) {
      throw new AssertionError(
          where + ": " + kind + " '" + name + "' is a kind the deployment tests do not know");
    }
    String expected = HasMetadata.getApiVersion(type);
    if (!expected.equals(apiVersion)) {
      throw new AssertionError(
          where
              + ": "
              + kind
              + " '"
              + name
              + "' has apiVersion '"
              + apiVersion
              + "'; the API serves "
              + kind
              + " as '"
              + expected
              + "'");
    }
    HasMetadata object;
    try {
      object = STRICT.treeToValue(doc, type);
    } catch (IOException e) {
      throw new AssertionError(
          where + ": " + kind + " '" + name + "' does not match the API schema: " + e, e);
    }
    List<String> unknown = unknownFields(object);
    if (!unknown.isEmpty()) {
      throw new AssertionError(
          where
              + ": "
              + kind
              + " '"
              + name
              + "' has fields the Kubernetes API does not define: "
              + unknown);
    }
    return object;
  }

  /** Paths of fields that landed in a model object's additional properties. */
  static List<String> unknownFields(Object root) {
    List<String> out = new ArrayList<>();
    walk(root, "", out, new IdentityHashMap<>());
    return out;
  }

  private static void walk(Object o, String path, List<String> out, Map<Object, Boolean> seen) {
    if (o == null || seen.put(o, Boolean.TRUE) != null) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        walk(e, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      for (var e : m.entrySet()) {
        walk(e.getValue(), path + "." + e.getKey(), out, seen);
      }
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method g : o.getClass().getMethods()) {
      if (g.getParameterCount() != 0
          || Modifier.isStatic(g.getModifiers())
          || !g.getName().startsWith("get")
          || g.getDeclaringClass() == Object.class) {
        continue;
      }
      Object v;
      try {
        v = g.invoke(o);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      String field = Character.toLowerCase(g.getName().charAt(3)) + g.getName().substring(4);
      if (g.getName().equals("getAdditionalProperties")) {
        if (v instanceof Map<?, ?> extra) {
          for (Object k : extra.keySet()) {
            out.add(path + "." + k);
          }
        }
        continue;
      }
      walk(v, path + "." + field, out, seen);
    }
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
    return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
  }

  <T extends HasMetadata> T get(Class<T> type, String name) {
    return find(type, name)
        .orElseThrow(
            () ->
                new AssertionError(
                    overlay + " renders no " + type.getSimpleName() + " named '" + name + "'"));
  }

  /** Every workload's pod template with a label naming the workload. */
  Map<String, PodTemplateSpec> podTemplates() {
    Map<String, PodTemplateSpec> t = new java.util.LinkedHashMap<>();
    all(Deployment.class)
        .forEach(d -> t.put("Deployment/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
    all(StatefulSet.class)
        .forEach(d -> t.put("StatefulSet/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
    all(DaemonSet.class)
        .forEach(d -> t.put("DaemonSet/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
    return t;
  }
}
