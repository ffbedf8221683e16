package io.edgeslm.fleet.internal.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.edgeslm.fleet.FleetUnavailableException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * An RFC 9457 problem details body. {@code type} is a stable URI per kind of failure, {@code
 * detail} the message for people (rule, value, next step).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    String type,
    String title,
    int status,
    String detail,
    String instance,
    Long retryAfterMs,
    String code) {

  public Problem(String type, String title, int status, String detail, String instance) {
    this(type, title, status, detail, instance, null, null);
  }

  public static final String MEDIA_TYPE = "application/problem+json";

  /** Base of every problem type URI; the key follows, e.g. {@code .../bundle-rejected}. */
  public static final String TYPE_BASE = "https://edgeslm.io/problems/";

  public static Response response(
      int status, String key, String title, String detail, String path) {
    return Response.status(status)
        .type(MediaType.valueOf(MEDIA_TYPE))
        .entity(new Problem(TYPE_BASE + key, title, status, detail, path))
        .build();
  }

  /**
   * A problem for an unavailable node or controller limit; {@code retryAfterMs} (an extension
   * member) also becomes a {@code Retry-After} header in whole seconds (RFC 9110 section 10.2.3).
   */
  public static Response unavailable(FleetUnavailableException e, String path) {
    Response.ResponseBuilder b =
        Response.status(e.httpStatus()).type(MediaType.valueOf(MEDIA_TYPE)).entity(of(e, path));
    if (e.retryAfterMs() != null) {
      b.header("Retry-After", Math.max(1, (e.retryAfterMs() + 999) / 1000));
    }
    return b.build();
  }

  /** The problem body of {@code e}. */
  public static Problem of(FleetUnavailableException e, String path) {
    return new Problem(
        TYPE_BASE + e.problemKey(),
        ProblemMappers.title(e.httpStatus()),
        e.httpStatus(),
        e.getMessage(),
        path,
        e.retryAfterMs(),
        e.code());
  }
}
