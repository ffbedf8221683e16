package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.FleetConflictException;
import io.edgeslm.fleet.FleetException;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetNotFoundException;
import io.edgeslm.fleet.FleetUnavailableException;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.HealthPoint;
import io.edgeslm.fleet.internal.store.JournalRow;
import io.edgeslm.fleet.internal.store.NodeFilter;
import io.edgeslm.fleet.internal.store.NodeRow;
import io.edgeslm.fleet.internal.store.Page;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;

/** Fleet inventory: summary, nodes, health history, journal, asking a node. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public class FleetApi {

  static final Set<String> STATUSES = Set.of("online", "offline", "unknown");

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

  /** Counts of nodes by status and by serving model, and rollouts by status. */
  public record Summary(
      Map<String, Long> nodesByStatus, Map<String, Long> nodesByModel, long heartbeatsStored) {}

  @GET
  @Path("/fleet")
  @Requires(Role.VIEWER)
  @Operation(summary = "Fleet overview: nodes by status and by model")
  public Summary summary() throws FleetException {
    FleetController c = c();
    return new Summary(c.nodes().countByStatus(), c.nodes().countByModel(), c.health().stored());
  }

  @GET
  @Path("/nodes")
  @Requires(Role.VIEWER)
  @Operation(summary = "List nodes, filtered, keyset-paginated by node id")
  @Problems("invalid-request")
  public PageResponse<NodeRow> nodes(
      @QueryParam("status") String status,
      @QueryParam("site") String site,
      @QueryParam("model") String model,
      @QueryParam("label") String label,
      @QueryParam("search") String search,
      @QueryParam("after") String after,
      @QueryParam("limit") @DefaultValue("100") int limit)
      throws FleetException {
    if (status != null && !STATUSES.contains(status)) {
      throw new FleetInputException(
          "status must be one of online, offline, unknown: got '" + status + "'.");
    }
    if (label != null && (label.indexOf('=') < 1 || label.length() > 200)) {
      throw new FleetInputException("label must be key=value, e.g. line=3: got '" + label + "'.");
    }
    Page<NodeRow> page =
        c().nodes().nodes(new NodeFilter(status, site, model, label, search), after, limit(limit));
    return new PageResponse<>(page.items(), page.next());
  }

  static int limit(int limit) throws FleetInputException {
    if (limit < 1 || limit > 500) {
      throw new FleetInputException(
          "limit must be between 1 and 500: got " + limit + ". Page with 'after' instead.");
    }
    return limit;
  }

  @GET
  @Path("/nodes/{id}")
  @Requires(Role.VIEWER)
  @Operation(summary = "One node's facts, labels and status")
  @Problems("not-found")
  public NodeRow node(@PathParam("id") String id) throws FleetException {
    return c().nodes().node(id).orElseThrow(() -> notFound(id));
  }

  static FleetNotFoundException notFound(String id) {
    return new FleetNotFoundException(
        "No node '" + id + "' is registered. Nodes appear when they publish their birth message.");
  }

  @GET
  @Path("/nodes/{id}/health")
  @Requires(Role.VIEWER)
  @Operation(summary = "A node's health history, newest first")
  @Problems({"invalid-request", "not-found"})
  public List<HealthPoint> health(
      @PathParam("id") String id,
      @QueryParam("hours") @DefaultValue("24") int hours,
      @QueryParam("limit") @DefaultValue("500") int limit)
      throws FleetException {
    if (hours < 1 || hours > 24 * 31) {
      throw new FleetInputException("hours must be between 1 and 744: got " + hours + ".");
    }
    FleetController c = c();
    c.nodes().node(id).orElseThrow(() -> notFound(id));
    Instant now = c.clock().instant();
    return c.nodes()
        .health(id, now.minus(Duration.ofHours(hours)), now.plusSeconds(60), limit(limit));
  }

  @GET
  @Path("/nodes/{id}/journal")
  @Requires(Role.VIEWER)
  @Operation(summary = "A node's update journal, newest first")
  @Problems({"invalid-request", "not-found"})
  public List<JournalRow> journal(
      @PathParam("id") String id, @QueryParam("limit") @DefaultValue("100") int limit)
      throws FleetException {
    FleetController c = c();
    c.nodes().node(id).orElseThrow(() -> notFound(id));
    return c.nodes().journal(id, limit(limit));
  }

  /** A question for a node. */
  public record AskRequest(String question, Integer timeoutSeconds) {}

  @POST
  @Path("/nodes/{id}/ask")
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces({MediaType.APPLICATION_JSON, AskRelay.EVENT_STREAM})
  @Requires(Role.OPERATOR)
  @Operation(
      summary = "Ask a node's model a question over MQTT request/response",
      description =
          "With 'Accept: text/event-stream' the node's replies stream as server-sent events as"
              + " they arrive: 'question' (id, node, deadline), 'part' (seq, text) per streamed"
              + " piece, then 'answer' (the node's final answer) or 'problem' (RFC 9457: node-busy,"
              + " node-error, node-timeout). Otherwise the final answer is returned as JSON and"
              + " every other outcome is a problem: node-offline or busy (503), node-busy (503"
              + " with Retry-After), node-error (502), node-timeout (504).")
  @Problems({
    "invalid-request",
    "not-found",
    "node-offline",
    "node-busy",
    "busy",
    "mqtt-unavailable",
    "node-error",
    "node-timeout"
  })
  @APIResponse(
      responseCode = "200",
      description = "The node's final answer, or with 'Accept: text/event-stream' the stream of it",
      content = {
        @Content(mediaType = MediaType.APPLICATION_JSON),
        @Content(mediaType = AskRelay.EVENT_STREAM)
      })
  public Response ask(@PathParam("id") String id, AskRequest request, @Context HttpHeaders headers)
      throws FleetException, InterruptedException {
    FleetController c = c();
    AskRelay.Checked q =
        AskRelay.check(
            c,
            id,
            request == null ? null : request.question(),
            request == null ? null : request.timeoutSeconds());
    if (AskRelay.wantsStream(headers)) {
      return AskRelay.stream(c, q, "/api/v1/nodes/" + id + "/ask");
    }
    return Response.ok(AskRelay.ask(c, q), MediaType.APPLICATION_JSON).build();
  }

  @POST
  @Path("/nodes/{id}/rollback")
  @Consumes(MediaType.APPLICATION_JSON)
  @Requires(Role.RELEASE_MANAGER)
  @Operation(
      summary = "Tell one node to return to its previous model",
      description =
          "Body {\"reason\":\"...\"}. Sends the node an update command 'rollback' (QoS 1)"
              + " outside any rollout and answers 202 with the command id; the node's result"
              + " (rolled back, or refused when it has no previous model) arrives in its journal"
              + " under that id. Refused with not-found for an unknown node, node-offline (503)"
              + " for an offline one (the command is not kept for it), conflict (409) for a node"
              + " that serves no model.")
  @Problems({"invalid-request", "not-found", "node-offline", "conflict"})
  @APIResponse(
      responseCode = "202",
      description = "Sent: the command id under which the node's result arrives in its journal")
  public Response rollback(@PathParam("id") String id, ReleaseApi.CommandRequest body)
      throws FleetException {
    String reason =
        ReleaseApi.reason(
            "a node rollback", "The node keeps it in its journal with the result.", body);
    FleetController c = c();
    NodeRow node = c.nodes().node(id).orElseThrow(() -> notFound(id));
    if ("offline".equals(node.status())) {
      throw new FleetUnavailableException(
          FleetUnavailableException.NODE_OFFLINE,
          "Node '"
              + id
              + "' is offline"
              + (node.statusReason() == null ? "" : " (" + node.statusReason() + ")")
              + (node.statusSince() == null ? "" : " since " + node.statusSince())
              + ": a rollback command is not kept for it. Send it again when the node is back"
              + " online.",
          null,
          null);
    }
    if (node.model() == null) {
      throw new FleetConflictException(
          "Node '"
              + id
              + "' serves no model (it answers with rules only): there is nothing to roll back.");
    }
    RolloutRunner.NodeCommand sent =
        c.runner().rollbackNode(node.site(), id, AuthFilter.actor(request), reason);
    return Response.accepted(sent).build();
  }
}
