package io.edgeslm.fleet.internal.rest;

import io.edgeslm.fleet.AuditEvent;
import io.edgeslm.fleet.BundleInfo;
import io.edgeslm.fleet.FleetInputException;
import io.edgeslm.fleet.FleetUnavailableException;
import io.edgeslm.fleet.GateResult;
import io.edgeslm.fleet.Role;
import io.edgeslm.fleet.RolloutState;
import io.edgeslm.fleet.Target;
import io.edgeslm.fleet.TargetPhase;
import io.edgeslm.fleet.Wave;
import io.edgeslm.fleet.WaveProgress;
import io.edgeslm.fleet.internal.app.ControllerBean;
import io.edgeslm.fleet.internal.app.FleetController;
import io.edgeslm.fleet.internal.ask.AskService;
import io.edgeslm.fleet.internal.rollout.RolloutRunner;
import io.edgeslm.fleet.internal.store.DownloadProgress;
import io.edgeslm.fleet.internal.store.HealthPoint;
import io.edgeslm.fleet.internal.store.NodeFilter;
import io.edgeslm.fleet.internal.store.NodeRow;
import io.edgeslm.fleet.internal.store.Page;
import io.quarkus.qute.Template;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * The server-rendered web UI (Qute): fleet overview, node list with filters, node detail with
 * health chart, journal and ask box, rollouts with per-wave progress and gate results, bundle
 * catalog. The browser signs in once with an API token, kept in an HttpOnly, SameSite=Strict
 * cookie; the same roles apply as for the API.
 */
@Path("/ui")
@Produces(MediaType.TEXT_HTML)
public class UiResource {

  @Inject ControllerBean bean;
  @Inject Template overview;
  @Inject Template nodes;
  @Inject Template node;

  @Inject
  @io.quarkus.qute.Location("node-live")
  Template nodeLive;

  @Inject Template rollouts;
  @Inject Template rollout;
  @Inject Template bundles;

  @Inject
  @io.quarkus.qute.Location("rollout-new")
  Template rolloutNew;

  @Context ContainerRequestContext request;

  FleetController c() throws Exception {
    return bean.controller();
  }

  /** A map entry with its share of a total, for bars. */
  public record Share(String key, long value, double share) {}

  @GET
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String overview() throws Exception {
    FleetController c = c();
    Map<String, Long> byStatus = c.nodes().countByStatus();
    long total = byStatus.values().stream().mapToLong(Long::longValue).sum();
    List<Share> models = new ArrayList<>();
    for (Map.Entry<String, Long> e : c.nodes().countByModel().entrySet()) {
      models.add(
          new Share(e.getKey(), e.getValue(), total == 0 ? 0 : 100.0 * e.getValue() / total));
    }
    return overview
        .data("byStatus", byStatus.entrySet())
        .data("total", total)
        .data("byModel", models)
        .data("rollouts", c.rollouts().list(null, null, 20).items())
        .render();
  }

  @GET
  @Path("/nodes")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String nodes(
      @QueryParam("status") String status,
      @QueryParam("site") String site,
      @QueryParam("label") String label,
      @QueryParam("search") String search,
      @QueryParam("after") String after)
      throws Exception {
    status = blank(status);
    site = blank(site);
    label = blank(label);
    search = blank(search);
    if (status != null && !FleetApi.STATUSES.contains(status)) {
      status = null;
    }
    if (label != null && label.indexOf('=') < 1) {
      label = null;
    }
    Page<NodeRow> page =
        c().nodes().nodes(new NodeFilter(status, site, null, label, search), blank(after), 50);
    String next = null;
    if (page.next() != null) {
      next =
          "/ui/nodes?after="
              + enc(page.next())
              + (status == null ? "" : "&status=" + enc(status))
              + (site == null ? "" : "&site=" + enc(site))
              + (label == null ? "" : "&label=" + enc(label))
              + (search == null ? "" : "&search=" + enc(search));
    }
    return nodes
        .data("nodes", page.items())
        .data("next", next)
        .data("status", status)
        .data("site", site)
        .data("label", label)
        .data("search", search)
        .render();
  }

  @GET
  @Path("/nodes/{id}")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String node(@PathParam("id") String id, @QueryParam("range") String range)
      throws Exception {
    return renderNode(id, null, HealthChart.Range.of(range));
  }

  /**
   * What the node is updating to now, as its page shows it.
   *
   * @param text the last report in words ("downloading 12.0 KiB of 40.0 KiB (30%) at …")
   * @param percent the bar's width, 0 to 100
   * @param assignmentId the assignment the report is for
   * @param rolloutId the rollout that assigned it, or null for an assignment of no rollout
   */
  public record NodeUpdate(String text, int percent, String assignmentId, String rolloutId) {

    static NodeUpdate of(String nodeId, DownloadProgress p) {
      String suffix = "." + nodeId;
      String a = p.assignmentId();
      return new NodeUpdate(
          UiFormat.progress(p),
          p.percent(),
          a,
          a.endsWith(suffix) && a.length() > suffix.length()
              ? a.substring(0, a.length() - suffix.length())
              : null);
    }
  }

  @GET
  @Path("/nodes/{id}/live")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String nodeLive(@PathParam("id") String id) throws Exception {
    // The node page's script fetches this every 2 s and swaps it in: facts and update progress,
    // without the health query of the whole page.
    FleetController c = c();
    NodeRow row = c.nodes().node(id).orElseThrow(() -> FleetApi.notFound(id));
    return nodeLive
        .data("node", row)
        .data("update", c.nodes().currentProgress(id).map(p -> NodeUpdate.of(id, p)).orElse(null))
        .render();
  }

  private String renderNode(String id, String answer, HealthChart.Range range) throws Exception {
    FleetController c = c();
    NodeRow row = c.nodes().node(id).orElseThrow(() -> FleetApi.notFound(id));
    Instant now = c.clock().instant();
    List<HealthPoint> health =
        c.nodes().health(id, now.minus(range.span()), now.plusSeconds(60), 3000);
    Role role = AuthFilter.role(request);
    return node.data("node", row)
        .data("update", c.nodes().currentProgress(id).map(p -> NodeUpdate.of(id, p)).orElse(null))
        .data("points", health.size())
        .data("range", range.key())
        .data(
            "ranges",
            java.util.Arrays.stream(HealthChart.Range.values())
                .map(HealthChart.Range::key)
                .toList())
        .data(
            "charts",
            List.of(
                HealthChart.of(
                    "Tokens per second",
                    "tokens/s",
                    health,
                    HealthPoint::tokensPerSecond,
                    range,
                    now),
                HealthChart.of(
                    "p95 latency",
                    "ms",
                    health,
                    p -> p.p95LatencyMs() == null ? null : p.p95LatencyMs().doubleValue(),
                    range,
                    now)))
        .data("journal", c.nodes().journal(id, 50))
        .data("answer", answer)
        .data("maxQuestionChars", io.edgeslm.protocol.Question.MAX_QUESTION_CHARS)
        .data("canRollBack", role.includes(Role.RELEASE_MANAGER) && row.model() != null)
        .render();
  }

  @POST
  @Path("/nodes/{id}/ask")
  @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
  @Requires(Role.OPERATOR)
  @Operation(hidden = true)
  public String ask(@PathParam("id") String id, @FormParam("question") String question)
      throws Exception {
    // Without JavaScript the form posts here and the page shows the final answer.
    FleetController c = c();
    c.nodes().node(id).orElseThrow(() -> FleetApi.notFound(id));
    String answer;
    try {
      AskService.AskResult r = AskRelay.ask(c, AskRelay.check(c, id, question, 30));
      answer = r.answer().answer();
    } catch (FleetInputException | FleetUnavailableException e) {
      answer = e.getMessage();
    }
    return renderNode(id, answer, HealthChart.Range.H24);
  }

  @POST
  @Path("/nodes/{id}/ask/stream")
  @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
  @Produces(AskRelay.EVENT_STREAM)
  @Requires(Role.OPERATOR)
  @Operation(hidden = true)
  public Response askStream(@PathParam("id") String id, @FormParam("question") String question)
      throws Exception {
    // The node page's script posts here and shows the events as they arrive.
    FleetController c = c();
    return AskRelay.stream(c, AskRelay.check(c, id, question, 30), "/ui/nodes/" + id + "/ask");
  }

  /** One wave's row in the rollout page. */
  public record WaveRow(
      int number,
      String plan,
      String state,
      double percent,
      long installed,
      long failed,
      long pending,
      GateResult gate) {}

  /**
   * One node of a rollout as its page shows it.
   *
   * @param wave the wave's number, from 1
   * @param phase the target's phase in lower case
   * @param download the node's last reported progress while it has no result ("downloading 40.0 KiB
   *     of 80.0 KiB (50%)"), "—" before its first report or after its result
   * @param percent the bar's width, 0 to 100; 100 once installed
   */
  public record TargetRow(
      String nodeId, int wave, String phase, String download, int percent, String reason) {

    static TargetRow of(Target t, DownloadProgress p) {
      String download = "—";
      int percent = t.phase() == TargetPhase.INSTALLED ? 100 : 0;
      if (t.phase() == TargetPhase.ASSIGNED && p != null) {
        percent = p.percent();
        download = UiFormat.progress(p);
      }
      return new TargetRow(
          t.nodeId(),
          t.wave() + 1,
          t.phase().name().toLowerCase(Locale.ROOT).replace('_', ' '),
          download,
          percent,
          t.reason());
    }
  }

  @GET
  @Path("/rollouts")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String rollouts(@QueryParam("after") String after) throws Exception {
    Page<RolloutState> page = c().rollouts().list(null, blank(after), 50);
    return rollouts
        .data("rollouts", page.items())
        .data("canRelease", AuthFilter.role(request).includes(Role.RELEASE_MANAGER))
        .data("next", page.next() == null ? null : "/ui/rollouts?after=" + enc(page.next()))
        .render();
  }

  @GET
  @Path("/rollouts/{id}")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String rollout(@PathParam("id") String id) throws Exception {
    FleetController c = c();
    RolloutState s = c.runner().get(id);
    List<WaveRow> rows = new ArrayList<>();
    for (WaveProgress p : s.waves()) {
      Wave w = s.plan().waves().get(p.index());
      long installed = 0;
      long failed = 0;
      long pending = 0;
      for (Target t : s.targets().values()) {
        if (t.wave() != p.index()) {
          continue;
        }
        if (t.phase() == TargetPhase.INSTALLED) {
          installed++;
        } else if (t.phase() == TargetPhase.FAILED) {
          failed++;
        } else if (t.phase() == TargetPhase.ASSIGNED) {
          pending++;
        }
      }
      rows.add(
          new WaveRow(
              p.index() + 1,
              PlanRows.wave(w),
              p.state().name().toLowerCase(Locale.ROOT),
              p.size() == 0 ? 0 : 100.0 * (installed + failed) / p.size(),
              installed,
              failed,
              pending,
              p.gate()));
    }
    List<AuditEvent> audit = c.rollouts().audit(id, 500);
    Map<String, DownloadProgress> progress = c.nodes().progress(id);
    List<TargetRow> targets = new ArrayList<>();
    for (Target t : s.targets().values()) {
      targets.add(TargetRow.of(t, progress.get(t.nodeId())));
    }
    targets.sort(
        java.util.Comparator.comparingInt(TargetRow::wave).thenComparing(TargetRow::nodeId));
    // Buttons appear only for the roles the API would accept; the API still checks every call.
    Role role = AuthFilter.role(request);
    return rollout
        .data("r", s)
        .data("waves", rows)
        .data("plan", PlanRows.of(s.plan()))
        .data("audit", audit)
        .data("targets", targets)
        .data("live", !s.status().isFinal())
        .data("canOperate", role.includes(Role.OPERATOR) && !s.status().isFinal())
        .data("canRelease", role.includes(Role.RELEASE_MANAGER) && !s.status().isFinal())
        .data("role", role.key())
        .render();
  }

  @GET
  @Path("/bundles")
  @Requires(Role.VIEWER)
  @Operation(hidden = true)
  public String bundles(@QueryParam("after") String after) throws Exception {
    Page<BundleInfo> page = c().catalog().list(blank(after), 50);
    return bundles
        .data("bundles", page.items())
        .data("next", page.next() == null ? null : "/ui/bundles?after=" + enc(page.next()))
        .data("canRelease", AuthFilter.role(request).includes(Role.RELEASE_MANAGER))
        .render();
  }

  @GET
  @Path("/rollouts/new")
  @Requires(Role.RELEASE_MANAGER)
  @Operation(hidden = true)
  public String newRollout(@QueryParam("bundle") String bundle) throws Exception {
    // The page's script posts the plan to the REST API itself; this only offers the bundles.
    return rolloutNew
        .data("bundles", c().catalog().list(null, 200).items())
        .data("selected", blank(bundle))
        .data("previewLimit", RolloutRunner.PREVIEW_LIMIT)
        .render();
  }

  static String blank(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
