package io.edgeslm.fleet.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgeslm.fleet.internal.rest.FleetApi;
import io.edgeslm.fleet.internal.rest.Problem;
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
    return answer(
        probe.operation(), probe.method() + " " + probe.path() + " as " + probe.role(), reply);
  }

  /** What is wrong with {@code reply} to a call of {@code operation}; null when as documented. */
  String answer(String operation, String call, Http.Reply reply) {
    JsonNode responses = operations().get(operation).path("responses");
    String status = Integer.toString(reply.status());
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
    Set<String> types = problemTypes(responses.path(status));
    String type = reply.json().path("type").asText();
    if (!types.contains(type)) {
      return call + ": problem type " + type + " is not documented for " + status + " " + types;
    }
    return null;
  }

  private static Set<String> problemTypes(JsonNode response) {
    Set<String> types = new LinkedHashSet<>();
    response
        .at("/content/application~1problem+json/schema")
        .findValues("enum")
        .forEach(en -> en.forEach(t -> types.add(t.asText())));
    return types;
  }

  /**
   * The documented operation ("METHOD /template") a request of {@code method} to {@code path}
   * (query ignored) calls, or null. Of the templates that match, the one with the fewest parameters
   * wins, so {@code /rollouts/preview} is not taken for {@code /rollouts/{id}}.
   */
  String operationOf(String method, String path) {
    String bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
    String best = null;
    int fewest = Integer.MAX_VALUE;
    for (String op : operations().keySet()) {
      String template = op.substring(op.indexOf(' ') + 1);
      if (!op.startsWith(method + " ")) {
        continue;
      }
      String regex =
          java.util.regex.Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q");
      int params = template.split("\\{", -1).length - 1;
      if (bare.matches(regex) && params < fewest) {
        best = op;
        fewest = params;
      }
    }
    return best;
  }

  /** One documented outcome, or one seen: operation, status and (for a problem) its type key. */
  static String outcome(String operation, int status, String problemType) {
    return operation
        + " "
        + status
        + (problemType == null ? "" : " " + problemType.replace(Problem.TYPE_BASE, ""));
  }

  /**
   * Every documented outcome: each operation's success statuses, and each problem type of each of
   * its problem statuses.
   */
  Set<String> documentedOutcomes() {
    Set<String> out = new java.util.TreeSet<>();
    operations()
        .forEach(
            (op, o) ->
                o.path("responses")
                    .properties()
                    .forEach(
                        r -> {
                          int status = Integer.parseInt(r.getKey());
                          Set<String> types = problemTypes(r.getValue());
                          if (status < 400 || types.isEmpty()) {
                            out.add(outcome(op, status, null));
                          } else {
                            types.forEach(t -> out.add(outcome(op, status, t)));
                          }
                        }));
    return out;
  }

  /**
   * Documented outcomes the contract test cannot bring about against a healthy controller, each
   * with the reason. {@code *} stands for every operation. Everything else the document lists has
   * to be met by some request of the run.
   */
  static final Map<String, String> NOT_PRODUCIBLE =
      Map.of(
          "* 500 storage",
          "needs a failing database or bundle store under the running controller",
          "* 503 unavailable",
          "the token lookup failing: needs the database gone while the controller runs",
          "POST /api/v1/nodes/{id}/ask 503 mqtt-unavailable",
          "needs the controller's MQTT connection down, which the other tests of the run share",
          "POST /api/v1/bundles 413 too-large",
          "needs a request body over quarkus.http.limits.max-body-size (64 GiB)");

  /**
   * What of the document no recorded outcome met ({@code seen}: {@link #outcome} strings), and
   * allow-list entries that no longer match a documented outcome; empty when all is covered.
   */
  List<String> uncovered(Set<String> seen) {
    List<String> out = new ArrayList<>();
    Set<String> documented = documentedOutcomes();
    for (String d : documented) {
      if (!seen.contains(d) && exemption(d) == null) {
        out.add(d + " is documented but no request of the contract test met it");
      }
    }
    for (String allowed : NOT_PRODUCIBLE.keySet()) {
      if (documented.stream().noneMatch(d -> matches(allowed, d))) {
        out.add("allow-list entry '" + allowed + "' matches nothing documented: remove it");
      }
    }
    return out;
  }

  private static String exemption(String outcome) {
    for (var e : NOT_PRODUCIBLE.entrySet()) {
      if (matches(e.getKey(), outcome)) {
        return e.getValue();
      }
    }
    return null;
  }

  private static boolean matches(String allowed, String outcome) {
    if (allowed.startsWith("* ")) {
      return outcome.endsWith(" " + allowed.substring(2));
    }
    return outcome.equals(allowed);
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }
}
