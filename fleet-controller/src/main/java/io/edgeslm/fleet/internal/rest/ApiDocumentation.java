package io.edgeslm.fleet.internal.rest;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.Paths;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.responses.APIResponse;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

/**
 * Completes the OpenAPI document from what the code itself declares, so that the document cannot
 * drift from the code: every API operation gets the {@code bearer} security requirement naming its
 * least role ({@link Requires}; OpenAPI 3.1 lets a non-OAuth requirement list roles) and its
 * problem responses, those every authenticated call can meet ({@link #EVERY_CALL}) plus the ones
 * the method declares ({@link Problems}), grouped by status, each with the problem type URIs it may
 * carry. The web UI's pages are left out: they are HTML for browsers, not an API for programs.
 *
 * <p>The bearer scheme and the {@code Problem} schema are in {@code META-INF/openapi.yaml}.
 */
public class ApiDocumentation implements OASFilter {

  /** The API's resource classes; the contract test fails on a resource method left out here. */
  static final List<Class<?>> API = List.of(FleetApi.class, ReleaseApi.class);

  /**
   * Problems any call can meet: no or unknown token, no database. Too low a role ({@code
   * forbidden}) is added for operations whose least role is above viewer: every token has at least
   * the viewer role, so a viewer operation never answers 403.
   */
  static final List<String> EVERY_CALL = List.of("unauthenticated", "storage", "unavailable");

  static final String SCHEME = "bearer";

  @Override
  public void filterOpenAPI(OpenAPI openAPI) {
    Paths paths = openAPI.getPaths();
    if (paths == null || paths.getPathItems() == null) {
      return;
    }
    Map<String, Method> methods = ResourceMethods.of(API);
    for (String path : new ArrayList<>(paths.getPathItems().keySet())) {
      if (!path.startsWith("/api/")) {
        paths.removePathItem(path);
        continue;
      }
      PathItem item = paths.getPathItem(path);
      for (var e : item.getOperations().entrySet()) {
        Method m = methods.get(e.getKey().name() + " " + path);
        if (m != null && m.getAnnotation(Requires.class) != null) {
          document(e.getValue(), m);
        }
      }
    }
  }

  private static void document(Operation op, Method m) {
    String role = m.getAnnotation(Requires.class).value().key();
    op.addSecurityRequirement(
        OASFactory.createSecurityRequirement().addScheme(SCHEME, List.of(role)));
    String needs = "Needs a bearer token with role '" + role + "' or higher.";
    op.setDescription(op.getDescription() == null ? needs : op.getDescription() + " " + needs);
    List<String> keys = new ArrayList<>(EVERY_CALL);
    if (m.getAnnotation(Requires.class).value() != io.edgeslm.fleet.Role.VIEWER) {
      keys.add("forbidden");
    }
    Problems declared = m.getAnnotation(Problems.class);
    if (declared != null) {
      keys.addAll(List.of(declared.value()));
    }
    Map<Integer, List<String>> byStatus = new TreeMap<>();
    for (String key : keys) {
      byStatus.computeIfAbsent(ProblemTypes.status(key), s -> new ArrayList<>()).add(key);
    }
    APIResponses responses = op.getResponses();
    if (responses == null) {
      responses = OASFactory.createAPIResponses();
      op.setResponses(responses);
    }
    for (var e : byStatus.entrySet()) {
      responses.addAPIResponse(Integer.toString(e.getKey()), problems(e.getKey(), e.getValue()));
    }
  }

  /** A problem-details response whose {@code type} is one of {@code keys}' URIs. */
  static APIResponse problems(int status, List<String> keys) {
    List<Object> uris = new ArrayList<>();
    keys.forEach(k -> uris.add(ProblemTypes.uri(k)));
    Schema type = OASFactory.createSchema().enumeration(uris);
    Schema schema =
        OASFactory.createSchema()
            .allOf(
                List.of(
                    OASFactory.createSchema().ref("Problem"),
                    OASFactory.createSchema().addProperty("type", type)));
    return OASFactory.createAPIResponse()
        .description(ProblemMappers.title(status) + ": " + String.join(", ", keys))
        .content(
            OASFactory.createContent()
                .addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType().schema(schema)));
  }
}
