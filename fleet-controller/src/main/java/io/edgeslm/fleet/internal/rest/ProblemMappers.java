package io.edgeslm.fleet.internal.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetStorageException;
import io.edgeslm.fleet.FleetUnavailableException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Every error of the API as RFC 9457 problem details. */
public class ProblemMappers {

  private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

  @Context UriInfo uri;

  private String path() {
    return "/" + uri.getPath().replaceFirst("^/", "");
  }

  @ServerExceptionMapper
  public Response fleet(FleetException e) {
    if (e instanceof FleetUnavailableException u) {
      return Problem.unavailable(u, path());
    }
    int status = ProblemTypes.status(e.problemKey());
    if (e instanceof FleetStorageException) {
      LOG.warn(e.getMessage(), e);
    }
    return Problem.response(status, e.problemKey(), title(status), e.getMessage(), path());
  }

  @ServerExceptionMapper
  public Response invalidValue(ValueInstantiationException e) {
    Throwable c = e.getCause();
    String detail = c instanceof IllegalArgumentException ? c.getMessage() : e.getOriginalMessage();
    return Problem.response(400, "invalid-request", title(400), detail, path());
  }

  @ServerExceptionMapper
  public Response json(JsonProcessingException e) {
    return Problem.response(
        400,
        "invalid-request",
        title(400),
        "The request body is not valid JSON for this endpoint: "
            + e.getOriginalMessage()
            + ". See the OpenAPI document (/q/openapi on the management port).",
        path());
  }

  @ServerExceptionMapper
  public Response illegalArgument(IllegalArgumentException e) {
    return Problem.response(400, "invalid-request", title(400), e.getMessage(), path());
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e) {
    // Quarkus REST wraps body-deserialization failures; report the rule that failed.
    for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
      if (c instanceof ValueInstantiationException v) {
        return invalidValue(v);
      }
      if (c instanceof JsonProcessingException j) {
        return json(j);
      }
    }
    int status = e.getResponse().getStatus();
    String key =
        switch (status) {
          case 404 -> "not-found";
          case 405 -> "method-not-allowed";
          case 406, 415 -> "unsupported-media-type";
          case 413 -> "too-large";
          default -> status >= 500 ? "internal" : "invalid-request";
        };
    return Problem.response(status, key, title(status), e.getMessage(), path());
  }

  static String title(int status) {
    return switch (status) {
      case 400 -> "Invalid request";
      case 401 -> "Unauthenticated";
      case 403 -> "Forbidden";
      case 404 -> "Not found";
      case 405 -> "Method not allowed";
      case 409 -> "Conflict";
      case 413 -> "Payload too large";
      case 415 -> "Unsupported media type";
      case 422 -> "Bundle rejected";
      case 502 -> "Node failed";
      case 503 -> "Unavailable";
      case 504 -> "Node timed out";
      default -> status >= 500 ? "Internal error" : "Error";
    };
  }
}
