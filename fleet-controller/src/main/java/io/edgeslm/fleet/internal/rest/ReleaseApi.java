package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.AuditEvent;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetNotFoundException;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.RolloutState;
import io.edgeslm.fleet.SelectionPreview;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.catalog.UploadProgress;
import io.edgeslm.fleet.internal.catalog.UploadedFile;
import io.edgeslm.fleet.internal.rollout.RolloutPlanRequest;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.Page;
import io.edgeslm.fleet.internal.store.TokenStore;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/** Bundle catalog, rollouts and tokens. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public class ReleaseApi {

  static final Set<String> ROLLOUT_STATUSES =
      Set.of("running", "paused", "completed", "aborted", "rolled_back");

  @Inject ControllerBean bean;

  @Context ContainerRequestContext request;

  FleetController c() throws FleetException {
    try {
      return bean.controller();
    } catch (FleetException e) {
      throw e;
    } catch (Exception e) {
      throw new io.edgeslm.fleet.FleetStorageException(
          "The controller is not running: " + e.getMessage(), e);
    }
  }

  // ---- bundles -----------------------------------------------------------------------------

  @GET
  @Path("/bundles")
  @Requires(Role.VIEWER)
  @Operation(summary = "List catalog bundles, keyset-paginated by bundle id")
  @Problems("invalid-request")
  public PageResponse<BundleInfo> bundles(
      @QueryParam("after") String after, @QueryParam("limit") @DefaultValue("100") int limit)
      throws FleetException {
    Page<BundleInfo> p = c().catalog().list(after, FleetApi.limit(limit));
    return new PageResponse<>(p.items(), p.next());
  }

  @GET
  @Path("/bundles/{id}")
  @Requires(Role.VIEWER)
  @Operation(summary = "Inspect one bundle: model, files with chunk hashes, signers, release.json")
  @Problems("not-found")
  public BundleInfo bundle(@PathParam("id") String id) throws FleetException {
    return c().catalog().get(id);
  }

  @POST
  @Path("/bundles")
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(
      summary = "Upload a signed bundle",
      description =
          "One multipart part named 'file' per bundle file, its filename the bundle-relative"
              + " path (model.gguf, release.json, model.sig, ...). Verified against the trust"
              + " store before it is stored; 422 with the reason otherwise.")
  @Problems({"invalid-request", "conflict", "too-large", "bundle-rejected"})
  @APIResponse(
      responseCode = "201",
      description = "Verified and stored: its catalog entry",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = BundleInfo.class)))
  public Response upload(
      @RestForm("file") List<FileUpload> files, @HeaderParam("Upload-Id") String uploadId)
      throws FleetException {
    if (uploadId != null && !UploadProgress.validId(uploadId)) {
      throw new FleetInputException(
          "Upload-Id must be 8 to 64 characters of A-Z a-z 0-9 . _ - (starting with a letter or"
              + " digit): got '"
              + (uploadId.length() > 80 ? uploadId.substring(0, 80) + "…" : uploadId)
              + "'. Use a random id such as a UUID.");
    }
    FleetController c = c();
    UploadProgress.Tracker tracker =
        c.catalog()
            .progress()
            .start(uploadId != null ? uploadId : "anonymous-" + java.util.UUID.randomUUID());
    List<UploadedFile> upload = new ArrayList<>();
    if (files != null) {
      for (FileUpload f : files) {
        upload.add(new UploadedFile(f.fileName(), f.uploadedFile()));
      }
    }
    BundleInfo info = c.catalog().upload(upload, AuthFilter.actor(request), tracker);
    return Response.status(201).entity(info).build();
  }

  @GET
  @Path("/uploads/{uploadId}")
  @Requires(Role.RELEASE_MANAGER)
  @Operation(
      summary = "Server-side progress of a bundle upload",
      description =
          "For an upload sent with the header 'Upload-Id': its phase once the controller has"
              + " received it (RECEIVED, VERIFYING, HASHING, then STORED with the bundleId or"
              + " REJECTED with the detail) and the bytes hashed so far. 404 while the body is"
              + " still arriving. The last 256 uploads are kept.")
  @Problems("not-found")
  public UploadProgress.Snapshot uploadProgress(@PathParam("uploadId") String uploadId)
      throws FleetException {
    return c().catalog()
        .progress()
        .get(uploadId)
        .orElseThrow(
            () ->
                new FleetNotFoundException(
                    "No upload '"
                        + uploadId
                        + "' is known: it is still arriving, was sent without this Upload-Id,"
                        + " or is older than the last "
                        + UploadProgress.MAX_TRACKED
                        + " uploads."));
  }

  @DELETE
  @Path("/bundles/{id}")
  @Requires(Role.ADMIN)
  @Operation(summary = "Delete a bundle no rollout references")
  @Problems({"not-found", "conflict"})
  @APIResponse(responseCode = "204", description = "Deleted")
  public Response deleteBundle(@PathParam("id") String id) throws FleetException {
    c().catalog().delete(id);
    return Response.noContent().build();
  }

  // ---- rollouts ----------------------------------------------------------------------------

  @GET
  @Path("/rollouts")
  @Requires(Role.VIEWER)
  @Operation(summary = "List rollouts, keyset-paginated by rollout id")
  @Problems("invalid-request")
  public PageResponse<RolloutState> rollouts(
      @QueryParam("status") String status,
      @QueryParam("after") String after,
      @QueryParam("limit") @DefaultValue("50") int limit)
      throws FleetException {
    if (status != null && !ROLLOUT_STATUSES.contains(status)) {
      throw new FleetInputException(
          "status must be one of running, paused, completed, aborted, rolled_back: got '"
              + status
              + "'.");
    }
    Page<RolloutState> p = c().rollouts().list(status, after, FleetApi.limit(limit));
    return new PageResponse<>(p.items(), p.next());
  }

  @GET
  @Path("/rollouts/{id}")
  @Requires(Role.VIEWER)
  @Operation(summary = "One rollout: plan, per-wave progress, gate results, every target")
  @Problems("not-found")
  public RolloutState rollout(@PathParam("id") String id) throws FleetException {
    return c().runner().get(id);
  }

  @GET
  @Path("/rollouts/{id}/audit")
  @Requires(Role.VIEWER)
  @Operation(summary = "Every transition of a rollout: who, when, what, why")
  @Problems({"invalid-request", "not-found"})
  public List<AuditEvent> audit(
      @PathParam("id") String id, @QueryParam("limit") @DefaultValue("500") int limit)
      throws FleetException {
    if (limit < 1 || limit > 5000) {
      throw new FleetInputException("limit must be between 1 and 5000: got " + limit + ".");
    }
    return c().runner().audit(id, limit);
  }

  @POST
  @Path("/rollouts")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(summary = "Create a rollout of a catalog bundle")
  @Problems({"invalid-request", "not-found", "conflict"})
  @APIResponse(
      responseCode = "201",
      description = "Created: the rollout's state",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = RolloutState.class)))
  public Response create(RolloutPlanRequest plan) throws FleetException {
    if (plan == null) {
      throw new FleetInputException("The request body must be a rollout plan (JSON).");
    }
    RolloutState s = c().runner().create(plan.id(), plan, AuthFilter.actor(request));
    return Response.status(201).entity(s).build();
  }

  @POST
  @Path("/rollouts/preview")
  @Consumes(MediaType.APPLICATION_JSON)
  // The role that may create the rollout: a preview lists node ids by selector and is part of
  // planning, which viewers and operators do not do.
  @Requires(Role.RELEASE_MANAGER)
  @Operation(
      summary = "Preview which nodes a rollout plan would reach, without creating it",
      description =
          "The body is a rollout plan as for POST /api/v1/rollouts (the name may be left out)."
              + " The answer counts the nodes the selector matches, those that already serve the"
              + " bundle's model (left alone) and those offline now (assigned when they return),"
              + " gives the nodes each wave would assign now, and lists the matched nodes by id"
              + " (at most 500; 'truncated' says when there are more). Nothing is stored.")
  @Problems({"invalid-request", "not-found"})
  public SelectionPreview preview(RolloutPlanRequest plan) throws FleetException {
    if (plan == null) {
      throw new FleetInputException("The request body must be a rollout plan (JSON).");
    }
    return c().runner().preview(plan);
  }

  /** Why an operator acts; stored in the audit trail. */
  public record CommandRequest(String reason) {}

  @POST
  @Path("/rollouts/{id}/pause")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.OPERATOR)
  @Operation(summary = "Pause a running rollout")
  @Problems({"invalid-request", "not-found", "conflict"})
  public RolloutState pause(@PathParam("id") String id, CommandRequest body) throws FleetException {
    return command(id, RolloutRunner.Command.PAUSE, body);
  }

  @POST
  @Path("/rollouts/{id}/resume")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.OPERATOR)
  @Operation(summary = "Resume a paused rollout (accepting the current wave's failures)")
  @Problems({"invalid-request", "not-found", "conflict"})
  public RolloutState resume(@PathParam("id") String id, CommandRequest body)
      throws FleetException {
    return command(id, RolloutRunner.Command.RESUME, body);
  }

  @POST
  @Path("/rollouts/{id}/approve")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(summary = "Approve the wave that waits for approval")
  @Problems({"invalid-request", "not-found", "conflict"})
  public RolloutState approve(@PathParam("id") String id, CommandRequest body)
      throws FleetException {
    return command(id, RolloutRunner.Command.APPROVE, body);
  }

  @POST
  @Path("/rollouts/{id}/abort")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(summary = "Abort a rollout; pending assignments are withdrawn")
  @Problems({"invalid-request", "not-found", "conflict"})
  public RolloutState abort(@PathParam("id") String id, CommandRequest body) throws FleetException {
    return command(id, RolloutRunner.Command.ABORT, body);
  }

  @POST
  @Path("/rollouts/{id}/rollback")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(summary = "Fleet-wide rollback to each node's previous model")
  @Problems({"invalid-request", "not-found", "conflict"})
  public RolloutState rollback(@PathParam("id") String id, CommandRequest body)
      throws FleetException {
    return command(id, RolloutRunner.Command.ROLLBACK, body);
  }

  private RolloutState command(String id, RolloutRunner.Command command, CommandRequest body)
      throws FleetException {
    String reason =
        reason(command.name().toLowerCase(Locale.ROOT), "It is kept in the audit trail.", body);
    return c().runner().command(id, command, AuthFilter.actor(request), reason);
  }

  /**
   * The command's reason, required and at most 500 characters.
   *
   * @param kept where the reason ends up, for the error message
   */
  static String reason(String command, String kept, CommandRequest body)
      throws FleetInputException {
    if (body == null || body.reason() == null || body.reason().isBlank()) {
      throw new FleetInputException(
          "A reason is required for " + command + ": send {\"reason\":\"...\"}. " + kept);
    }
    if (body.reason().length() > 500) {
      throw new FleetInputException(
          "reason must be at most 500 characters: got " + body.reason().length() + ".");
    }
    return body.reason();
  }

  // ---- tokens ------------------------------------------------------------------------------

  /** A new token's name and role. */
  public record TokenRequest(String name, String role) {}

  /** A created token; the secret is shown this once and stored only as its hash. */
  public record CreatedToken(String name, String role, String token) {}

  @GET
  @Path("/tokens")
  @Requires(Role.ADMIN)
  @Operation(summary = "List tokens (names and roles, never secrets)")
  public List<TokenStore.TokenInfo> tokens() throws FleetException {
    return c().tokens().list();
  }

  @POST
  @Path("/tokens")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.ADMIN)
  @Operation(summary = "Create a token; the response shows its secret once")
  @Problems({"invalid-request", "conflict"})
  @APIResponse(
      responseCode = "201",
      description = "Created: the token's secret, shown this once",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = CreatedToken.class)))
  public Response createToken(TokenRequest body) throws FleetException {
    if (body == null
        || body.name() == null
        || !body.name().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new FleetInputException(
          "name must be 1 to 64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit.");
    }
    Role role = Role.fromKey(body.role() == null ? "" : body.role());
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String secret = "fct_" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    FleetController c = c();
    c.tokens().create(body.name(), role, secret, c.clock().instant());
    return Response.status(201).entity(new CreatedToken(body.name(), role.key(), secret)).build();
  }

  @DELETE
  @Path("/tokens/{name}")
  @Requires(Role.ADMIN)
  @Operation(summary = "Delete a token")
  @Problems("not-found")
  @APIResponse(responseCode = "204", description = "Deleted")
  public Response deleteToken(@PathParam("name") String name) throws FleetException {
    if (!c().tokens().delete(name)) {
      throw new io.edgeslm.fleet.FleetNotFoundException("No token named '" + name + "'.");
    }
    return Response.noContent().build();
  }
}
