package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.internal.store.TokenStore;
import jakarta.inject.Inject;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * Bearer-token authentication and role checks for the API and the web UI. A token comes from the
 * {@code Authorization: Bearer} header or, for the browser UI, the {@code fleet_token} cookie; its
 * SHA-256 is looked up in the token store. Every resource method declares its least role with
 * {@link Requires}; a method without one is refused, so a forgotten annotation fails closed.
 */
@Provider
public class AuthFilter implements ContainerRequestFilter {

  /** Request property holding the authenticated {@link TokenStore.TokenInfo}. */
  public static final String PRINCIPAL = "fleet.principal";

  public static final String COOKIE = "fleet_token";

  @Context ResourceInfo resource;

  @Inject ControllerBean controller;

  @Inject
  @io.quarkus.qute.Location("refused")
  io.quarkus.qute.Template refused;

  @Override
  public void filter(ContainerRequestContext request) {
    Method m = resource.getResourceMethod();
    if (m == null) {
      return;
    }
    Requires requires = m.getAnnotation(Requires.class);
    if (m.getDeclaringClass().isAnnotationPresent(Public.class)) {
      return;
    }
    String path = "/" + request.getUriInfo().getPath().replaceFirst("^/", "");
    if (requires == null) {
      request.abortWith(
          Problem.response(
              403,
              "forbidden",
              "Forbidden",
              "This endpoint declares no role; access is refused.",
              path));
      return;
    }
    Optional<String> secret = secret(request);
    if (path.startsWith("/ui") && (secret.isEmpty() || unknown(secret.get()))) {
      // Browsers go to the sign-in page rather than receive a problem document.
      request.abortWith(
          jakarta.ws.rs.core.Response.seeOther(java.net.URI.create("/ui/login")).build());
      return;
    }
    if (secret.isEmpty()) {
      request.abortWith(
          Problem.response(
              401,
              "unauthenticated",
              "Unauthenticated",
              "This endpoint needs a bearer token with role '"
                  + requires.value().key()
                  + "' or higher. Send 'Authorization: Bearer <token>'; an admin creates tokens"
                  + " with POST /api/v1/tokens.",
              path));
      return;
    }
    Optional<TokenStore.TokenInfo> token;
    try {
      token = controller.controller().tokens().find(secret.get());
    } catch (Exception e) {
      request.abortWith(
          Problem.response(
              503,
              "unavailable",
              "Unavailable",
              "Cannot check the token: " + e.getMessage(),
              path));
      return;
    }
    if (token.isEmpty()) {
      request.abortWith(
          Problem.response(
              401,
              "unauthenticated",
              "Unauthenticated",
              "The bearer token is not known (it may have been deleted). Ask an admin for a"
                  + " token.",
              path));
      return;
    }
    if (!token.get().role().includes(requires.value())) {
      String detail =
          "Token '"
              + token.get().name()
              + "' has role '"
              + token.get().role().key()
              + "'; this "
              + (path.startsWith("/ui") ? "page" : "endpoint")
              + " needs '"
              + requires.value().key()
              + "' or higher. Use a token with that role.";
      request.abortWith(
          path.startsWith("/ui")
              ? uiRefusal(detail)
              : Problem.response(403, "forbidden", "Forbidden", detail, path));
      return;
    }
    request.setProperty(PRINCIPAL, token.get());
  }

  /**
   * A refused page for a signed-in browser, in the UI's layout: the problem's detail, its type, and
   * a way back.
   */
  private jakarta.ws.rs.core.Response uiRefusal(String detail) {
    String html =
        refused
            .data("detail", detail)
            .data("status", 403)
            .data("type", Problem.TYPE_BASE + "forbidden")
            .render();
    return jakarta.ws.rs.core.Response.status(403)
        .type(jakarta.ws.rs.core.MediaType.TEXT_HTML_TYPE.withCharset("UTF-8"))
        .entity(html)
        .build();
  }

  private boolean unknown(String secret) {
    try {
      return controller.controller().tokens().find(secret).isEmpty();
    } catch (Exception e) {
      return true;
    }
  }

  private static Optional<String> secret(ContainerRequestContext request) {
    String header = request.getHeaderString(HttpHeaders.AUTHORIZATION);
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      String s = header.substring(7).trim();
      return s.isEmpty() || s.length() > 512 ? Optional.empty() : Optional.of(s);
    }
    Cookie c = request.getCookies().get(COOKIE);
    if (c != null && !c.getValue().isEmpty() && c.getValue().length() <= 512) {
      return Optional.of(c.getValue());
    }
    return Optional.empty();
  }

  /** The authenticated token's role. */
  public static Role role(ContainerRequestContext request) {
    return ((TokenStore.TokenInfo) request.getProperty(PRINCIPAL)).role();
  }

  /** The authenticated token's name, for audit. */
  public static String actor(ContainerRequestContext request) {
    return ((TokenStore.TokenInfo) request.getProperty(PRINCIPAL)).name();
  }
}
