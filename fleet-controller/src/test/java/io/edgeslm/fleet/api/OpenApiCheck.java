package io.edgeslm.fleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.fleet.internal.rest.FleetApi;
import io.edgeslm.fleet.internal.rest.Requires;
import io.edgeslm.fleet.internal.rest.ResourceMethods;
import jakarta.ws.rs.Path;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The OpenAPI document the running controller serves, held against the code and against the running
 * API: every JAX-RS method under {@code /api} is documented with its least role and nothing else
 * is; and calling each documented operation (without a token, with too low a role, with its role
 * and unknown ids or bad input, with its role and a known node) gives only statuses the document
 * lists, problem documents carrying one of the types it lists for that status.
 */
final class OpenApiCheck {

  private static final String PACKAGE = "io.edgeslm.fleet.internal.rest";

  private final JsonNode doc;

  OpenApiCheck(JsonNode doc) {
    this.doc = doc;
  }

  /** The JAX-RS resource classes of the controller's REST package, found on the class path. */
  static List<Class<?>> resourceClasses() throws Exception {
    var source = FleetApi.class.getProtectionDomain().getCodeSource();
    java.nio.file.Path classes =
        source != null && source.getLocation() != null
            ? java.nio.file.Path.of(source.getLocation().toURI())
            : java.nio.file.Path.of("target", "classes");
    java.nio.file.Path dir = classes.resolve(PACKAGE.replace('.', '/'));
    List<Class<?>> out = new ArrayList<>();
    try (Stream<java.nio.file.Path> files = Files.list(dir)) {
      for (java.nio.file.Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(".class") && !name.contains("$")) {
          Class<?> c =
              Class.forName(
                  PACKAGE + "." + name.substring(0, name.length() - 6),
                  false,
                  FleetApi.class.getClassLoader());
          if (c.isAnnotationPresent(Path.class)) {
            out.add(c);
          }
        }
      }
    }
    if (out.isEmpty()) {
      throw new AssertionError("no JAX-RS resource class found in " + dir);
    }
    return out;
  }

  /** "METHOD /path" of every documented operation → its operation object. */
  Map<String, JsonNode> operations() {
    Map<String, JsonNode> out = new TreeMap<>();
    doc.path("paths")
        .properties()
        .forEach(
            p ->
                p.getValue()
                    .properties()
                    .forEach(
                        o -> {
                          if (Set.of("get", "put", "post", "delete", "patch", "head", "options")
                              .contains(o.getKey())) {
                            out.put(
                                o.getKey().toUpperCase(Locale.ROOT) + " " + p.getKey(),
                                o.getValue());
                          }
                        }));
    return out;
  }

  /** What is wrong with the document against the resource methods; empty when nothing is. */
  List<String> againstTheCode(List<Class<?>> resources) {
    List<String> failures = new ArrayList<>();
    JsonNode scheme = doc.at("/components/securitySchemes/bearer");
    if (!scheme.path("type").asText().equals("http")
        || !scheme.path("scheme").asText().equals("bearer")) {
      failures.add("no http bearer security scheme 'bearer': " + scheme);
    }
    Map<String, JsonNode> documented = operations();
    Map<String, Method> methods = ResourceMethods.of(resources);
    for (var e : methods.entrySet()) {
      String path = e.getKey().substring(e.getKey().indexOf(' ') + 1);
      JsonNode op = documented.get(e.getKey());
      if (!path.startsWith("/api/")) {
        if (op != null) {
          failures.add(e.getKey() + " is a web UI page but is in the API document");
        }
        continue;
      }
      if (op == null) {
        failures.add(e.getKey() + " (" + e.getValue().getName() + ") is not documented");
        continue;
      }
      Requires r = e.getValue().getAnnotation(Requires.class);
      JsonNode roles = op.at("/security/0/bearer");
      if (r == null
          || !roles.isArray()
          || roles.size() != 1
          || !roles.get(0).asText().equals(r.value().key())) {
        failures.add(
            e.getKey()
                + ": security "
                + op.path("security")
                + " does not name its least role "
                + (r == null ? "(none declared)" : r.value().key()));
      }
      if (!op.path("responses").has("401")) {
        failures.add(e.getKey() + " does not document 401");
      }
      // Every token has at least the viewer role: only a higher least role can answer 403.
      boolean refusable = r != null && r.value() != io.edgeslm.fleet.Role.VIEWER;
      if (op.path("responses").has("403") != refusable) {
        failures.add(
            e.getKey()
                + (refusable
                    ? " does not document 403"
                    : " documents 403, which no token can meet (every role includes viewer)"));
      }
    }
    for (String key : documented.keySet()) {
      if (!methods.containsKey(key)) {
        failures.add(key + " is documented but no resource method serves it");
      }
    }
    return failures;
  }

  /** A call of a documented operation: concrete path, the token's role (null: none), body. */
  record Probe(String operation, String method, String path, String role, String body) {}

  /** The calls made of every documented operation. */
  List<Probe> probes() {
    List<Probe> out = new ArrayList<>();
    for (var e : operations().entrySet()) {
      String method = e.getKey().substring(0, e.getKey().indexOf(' '));
      String template = e.getKey().substring(method.length() + 1);
      JsonNode op = e.getValue();
      String role = op.at("/security/0/bearer/0").asText("viewer");
      String body = null;
      JsonNode content = op.at("/requestBody/content");
      if (content.has("multipart/form-data")) {
        body = "multipart";
      } else if (content.has("application/json")) {
        body = "{}";
      }
      String unknown = template.replaceAll("\\{[^}]+}", "none-such-id");
      out.add(new Probe(e.getKey(), method, unknown, null, body));
      if (!role.equals("viewer")) {
        out.add(new Probe(e.getKey(), method, unknown, "viewer", body));
      }
      out.add(new Probe(e.getKey(), method, unknown, role, body));
      // A node the test registered: the calls get past "not found" to the input checks.
      String known = template.replace("/nodes/{id}", "/nodes/gw-0");
      String concrete = known.replaceAll("\\{[^}]+}", "none-such-id");
      if (!known.equals(template)) {
        out.add(new Probe(e.getKey(), method, concrete, role, body));
      }
      for (JsonNode p : op.path("parameters")) {
        if (p.path("in").asText().equals("query") && p.path("name").asText().equals("limit")) {
          out.add(new Probe(e.getKey(), method, concrete + "?limit=0", role, body));
        }
      }
    }
    return out;
  }

  /** What is wrong with one answer to {@code probe}; null when it is as documented. */
  String answer(Probe probe, Http.Reply reply) {
    JsonNode responses = operations().get(probe.operation()).path("responses");
    String status = Integer.toString(reply.status());
    String call = probe.method() + " " + probe.path() + " as " + probe.role();
    if (!responses.has(status)) {
      return call
          + ": status "
          + status
          + " is not documented (documented: "
          + fieldNames(responses)
          + "): "
          + reply.body();
    }
    if (reply.status() < 400) {
      return null;
    }
    if (!reply.contentType().startsWith("application/problem+json")) {
      return call + ": " + status + " is not a problem document: " + reply.contentType();
    }
    Set<String> types = new LinkedHashSet<>();
    responses
        .at("/" + status + "/content/application~1problem+json/schema")
        .findValues("enum")
        .forEach(en -> en.forEach(t -> types.add(t.asText())));
    String type = reply.json().path("type").asText();
    if (!types.contains(type)) {
      return call + ": problem type " + type + " is not documented for " + status + " " + types;
    }
    return null;
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
