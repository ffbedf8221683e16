package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.internal.app.ControllerBean;
import io.quarkus.qute.Template;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** The UI's sign-in page: exchanges a valid API token for an HttpOnly session cookie. */
@Path("/ui/login")
@Public
public class UiLogin {

  @Inject ControllerBean bean;
  @Inject Template login;

  @GET
  @Produces(MediaType.TEXT_HTML)
  @Operation(hidden = true)
  public String form() {
    return login.data("error", null).render();
  }

  @POST
  @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
  @Produces(MediaType.TEXT_HTML)
  @Operation(hidden = true)
  public Response signIn(@FormParam("token") String token) throws Exception {
    if (token == null
        || token.isBlank()
        || token.length() > 512
        || bean.controller().tokens().find(token.trim()).isEmpty()) {
      return Response.status(401)
          .entity(
              login.data("error", "That token is not known. Ask an admin for a token.").render())
          .build();
    }
    NewCookie cookie =
        new NewCookie.Builder(AuthFilter.COOKIE)
            .value(token.trim())
            .path("/")
            .httpOnly(true)
            .sameSite(NewCookie.SameSite.STRICT)
            .maxAge(12 * 3600)
            .build();
    return Response.seeOther(URI.create("/ui")).cookie(cookie).build();
  }
}
