package io.edgeslm.fleet.internal.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * An RFC 9457 problem details body. {@code type} is a stable URI per kind of failure, {@code
 * detail} the message for people (rule, value, next step).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance) {

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
}
