package io.edgeslm.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgeslm.protocol.Channel;
import io.edgeslm.protocol.NodeTopics;
import io.edgeslm.protocol.Topics;
import io.edgeslm.testkit.ChildJvm;
import io.edgeslm.testkit.TestPki;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production broker configuration, proven against a real Mosquitto: started with the
 * mosquitto.conf and ACL the production overlay renders, and with certificates made by the real
 * fleet-pki.sh. Every channel of the protocol ({@link Channel}) is exercised, so a new channel
 * without an ACL rule fails here.
 *
 * <p>Mosquitto refuses a subscription it does not authorize with reason code 0x87 (MQTT 5) or
 * grants it and never delivers (wildcards, MQTT 3.1.1); a publish it does not authorize is
 * acknowledged (0x87 or success, by version) and dropped. So the tests assert what a client can
 * observe: what is delivered. "Not delivered" is proven without timing: after the message that must
 * not arrive, a barrier message that must arrive is published on the same path; QoS 1 publishes are
 * sequential (each waits for its PUBACK, after which the broker has routed it), and a broker
 * delivers to one subscriber in order, so once the barrier is in, the forbidden message would have
 * been before it.
 */
class BrokerSecurityIT {
  private static final String SITE = "plant-1";
  private static final NodeTopics A = Topics.node(SITE, "gw-a");
  private static final NodeTopics B = Topics.node(SITE, "gw-b");

  /** An operator identity, with the block the ACL's comment tells plants to append. */
  private static final String OPERATOR = "operator-anna";

  private static final String OPERATOR_BLOCK =
      "\nuser " + OPERATOR + "\ntopic write edge/v1/+/+/ask\ntopic read edge/v1/+/+/answers/#\n";

  /**
   * Escalation between nodes: gw-small asks gw-big. The plant appends the two grants exactly as the
   * ACL's comment shows them ({@link #escalationBlock}).
   */
  private static final NodeTopics SMALL = Topics.node(SITE, "gw-small");

  private static final NodeTopics BIG = Topics.node(SITE, "gw-big");

  private static final String ESCALATION_ID = "esc-1";

  @TempDir static Path tmp;
  private static FleetPki pki;
  private static FleetBroker broker;
  private static String productionAcl;
  private final List<TestClient> clients = new ArrayList<>();

  @BeforeAll
  static void startBroker() throws Exception {
    pki = new FleetPki(tmp.resolve("pki"));
    pki.run("init");
    pki.run("broker", "--dns", "localhost", "--ip", "127.0.0.1");
    pki.run("node", "gw-a", "gw-b", "gw-c", "gw-d", "gw-small", "gw-big", OPERATOR);
    pki.run("controller", "--replicas", "2");
    pki.run("revoke", "gw-c");
    Path certs = Files.createDirectories(tmp.resolve("certs"));
    Files.copy(pki.dir.resolve("ca/ca.crt"), certs.resolve("ca.crt"));
    Files.copy(pki.dir.resolve("broker/tls.crt"), certs.resolve("tls.crt"));
    Files.copy(pki.dir.resolve("broker/tls.key"), certs.resolve("tls.key"));
    Files.copy(pki.dir.resolve("ca/crl.pem"), certs.resolve("crl.pem"));
    ConfigMap cm = Rendered.of("overlays/production").get(ConfigMap.class, "mosquitto-config");
    productionAcl = cm.getData().get("acl");
    broker =
        FleetBroker.start(
            cm.getData().get("mosquitto.conf"),
            productionAcl + OPERATOR_BLOCK + escalationBlock(productionAcl),
            certs,
            tmp.resolve("broker"));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  @AfterEach
  void closeClients() {
    clients.forEach(TestClient::close);
  }

  private TestClient node(String id) throws Exception {
    return track(TestClient.connect(broker.url(), id, pki.node(id)));
  }

  private TestClient controller(int replica) throws Exception {
    return track(
        TestClient.connect(broker.url(), "controller-" + replica, pki.controller(replica)));
  }

  /** The operator identity, with the block the ACL's comment tells plants to append. */
  private TestClient operator() throws Exception {
    return track(TestClient.connect(broker.url(), OPERATOR, pki.node(OPERATOR)));
  }

  private TestClient track(TestClient c) {
    clients.add(c);
    return c;
  }

  private static String unique(String what) {
    return what + "-" + UUID.randomUUID();
  }

  /**
   * The escalation grants as the ACL's comment tells a plant to append them: the commented lines
   * from {@code user gw-small} on, uncommented. Fails when the comment no longer has them.
   */
  static String escalationBlock(String acl) {
    List<String> lines = acl.lines().toList();
    int start = lines.indexOf("#   user gw-small");
    if (start < 0) {
      throw new AssertionError(
          "The production ACL no longer shows the escalation grants ('#   user gw-small' and the"
              + " two topic lines after it) that docs/node-agent.md tells plants to append:\n"
              + acl);
    }
    StringBuilder block = new StringBuilder("\n");
    for (int i = start; i < lines.size() && lines.get(i).startsWith("#   "); i++) {
      block.append(lines.get(i).substring(4)).append('\n');
    }
    return block.toString();
  }

  /** The reply topic {@code PeerNodeTarget} subscribes: inside the peer's own answers tree. */
  private static String escalationReply(NodeTopics peer, String asker) {
    return peer.prefix() + "answers/escalations/" + asker;
  }

  // --- nodes ------------------------------------------------------------------------------------

  @Test
  void nodeA_receivesNothingMeantForNodeB_evenWithWildcards() throws Exception {
    TestClient a = node("gw-a");
    TestClient b = node("gw-b");
    TestClient ctl = controller(0);
    List<Channel> toNode =
        List.of(Channel.values()).stream()
            .filter(c -> c.direction() == Channel.Direction.TO_NODE)
            .toList();
    for (Channel ch : toNode) {
      // Refused (0x87) or granted without delivery, depending on the Mosquitto version: the
      // delivery check below decides.
      System.out.printf("gw-a SUBSCRIBE %s -> 0x%02x%n", B.topic(ch), a.subscribe(B.topic(ch)));
      assertThat(b.subscribe(B.topic(ch)))
          .as("gw-b subscribing to its own %s", ch)
          .isLessThan(0x80);
    }
    // Wildcards are granted, but deliver only what the ACL lets the node read.
    assertThat(a.subscribe("edge/v1/#")).isLessThan(0x80);
    assertThat(a.subscribe("#")).isLessThan(0x80);
    assertThat(a.subscribe(A.ask())).isLessThan(0x80);

    List<String> secrets = new ArrayList<>();
    for (Channel ch : toNode) {
      String secret = unique("for-gw-b-only-" + ch.suffix());
      secrets.add(secret);
      assertThat(ctl.publish(B.topic(ch), secret, false))
          .as("controller publishes %s", ch)
          .isLessThan(0x80);
      // B, the owner, gets each one: the messages were really sent.
      b.await(r -> r.payload().equals(secret), secret);
    }
    String barrier = unique("barrier");
    ctl.publish(A.ask(), barrier, false);
    a.await(r -> r.payload().equals(barrier), "the barrier on its own ask topic");
    assertThat(a.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(secrets);
    assertThat(a.received())
        .extracting(TestClient.Received::topic)
        .allMatch(t -> !t.contains("/gw-b/"));
  }

  @Test
  void nodeA_doesNotGetNodeBsRetainedAssignment() throws Exception {
    TestClient ctl = controller(0);
    String secret = unique("retained-assignment-for-gw-b");
    assertThat(ctl.publish(B.updateAssignment(), secret, true)).isLessThan(0x80);
    String own = unique("retained-assignment-for-gw-a");
    assertThat(ctl.publish(A.updateAssignment(), own, true)).isLessThan(0x80);
    try {
      TestClient a = node("gw-a");
      assertThat(a.subscribe("edge/v1/+/+/update/assignment")).isLessThan(0x80);
      a.await(r -> r.payload().equals(own), "its own retained assignment");
      String barrier = unique("barrier");
      assertThat(a.subscribe(A.ask())).isLessThan(0x80);
      ctl.publish(A.ask(), barrier, false);
      a.await(r -> r.payload().equals(barrier), "the barrier");
      assertThat(a.received()).extracting(TestClient.Received::payload).doesNotContain(secret);
    } finally {
      ctl.publish(B.updateAssignment(), "", true);
      ctl.publish(A.updateAssignment(), "", true);
    }
  }

  @Test
  void nodeA_cannotPublishAsNodeB() throws Exception {
    TestClient a = node("gw-a");
    TestClient ctl = controller(0);
    TestClient observer = controller(1);
    // The controller's own subscriptions (FleetIngest, ChunkServer), and one that sees everything
    // else a node publishes.
    for (Channel ch : Channel.values()) {
      if (ch.direction() == Channel.Direction.FROM_NODE && ch != Channel.REPORT) {
        assertThat(ctl.subscribe(Topics.filter(ch)))
            .as("controller subscribes %s", ch)
            .isLessThan(0x80);
      }
    }
    assertThat(observer.subscribe(Topics.sharedFilter("fleet", Channel.HEALTH))).isLessThan(0x80);
    List<String> forged = new ArrayList<>();
    for (Channel ch : Channel.values()) {
      if (ch.direction() == Channel.Direction.FROM_NODE) {
        String f = unique("forged-" + ch.suffix());
        forged.add(f);
        int code = a.publish(B.topic(ch), f, ch == Channel.STATUS || ch == Channel.BIRTH);
        System.out.printf("gw-a PUBLISH %s -> 0x%02x%n", B.topic(ch), code);
      }
    }
    // gw-a's own messages on the same channels arrive: the barrier, and proof of what nodes may do.
    for (Channel ch : Channel.values()) {
      if (ch.direction() == Channel.Direction.FROM_NODE && ch != Channel.REPORT) {
        String own = unique("own-" + ch.suffix());
        assertThat(a.publish(A.topic(ch), own, false)).isLessThan(0x80);
        ctl.await(r -> r.payload().equals(own), "gw-a's own " + ch.suffix());
      }
    }
    assertThat(ctl.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(forged);
    assertThat(observer.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(forged);
    // Nothing was retained for gw-b either: a new subscriber to its status and birth sees none.
    TestClient late = track(TestClient.connect(broker.url(), "controller-1", pki.controller(1)));
    late.subscribe(B.status());
    late.subscribe(B.birth());
    late.subscribe(A.status());
    String barrier = unique("barrier");
    a.publish(A.status(), barrier, false);
    late.await(r -> r.payload().equals(barrier), "the barrier");
    assertThat(late.received())
        .extracting(TestClient.Received::topic)
        .doesNotContain(B.status(), B.birth());
  }

  @Test
  void nodeAnswers_goOnlyToItsOwnAnswersTree_notToAnotherNodes() throws Exception {
    TestClient a = node("gw-a");
    TestClient ops = operator();
    assertThat(ops.subscribe("edge/v1/+/+/answers/#")).isLessThan(0x80);
    String forgedForB = unique("forged-answer-for-gw-b");
    a.publish(B.prefix() + "answers/q-1", forgedForB, false);
    String own = unique("own-answer");
    assertThat(a.publish(A.prefix() + "answers/q-1", own, false)).isLessThan(0x80);
    ops.await(r -> r.payload().equals(own), "gw-a's own answer");
    assertThat(ops.received()).extracting(TestClient.Received::payload).doesNotContain(forgedForB);
  }

  // --- escalation between nodes ----------------------------------------------------------------

  @Test
  void escalationGrants_areTheTwoLinesTheDocsName_forTheAskingNodeOnly() throws Exception {
    String grants =
        "user gw-small\n"
            + "topic write edge/v1/+/gw-big/ask\n"
            + "topic read edge/v1/+/gw-big/answers/escalations/gw-small\n";
    assertThat(escalationBlock(productionAcl)).isEqualTo("\n" + grants);
    // The same lines as docs/node-agent.md shows them.
    assertThat(Files.readString(Repo.root().resolve("docs/node-agent.md"))).contains(grants);
  }

  @Test
  void withoutGrants_nodeA_cannotAskNodeB() throws Exception {
    TestClient a = node("gw-a");
    TestClient b = node("gw-b");
    TestClient ctl = controller(0);
    assertThat(b.subscribe(B.ask())).isLessThan(0x80);
    String question = unique("escalated-question-from-gw-a");
    int code = a.publish(B.ask(), question, false, escalationProps(escalationReply(B, "gw-a")));
    System.out.printf("gw-a PUBLISH %s -> 0x%02x%n", B.ask(), code);
    // The controller, which may ask, asks after it: B gets that, so it would have got gw-a's.
    awaitBarrier(ctl, b, B);
    assertThat(b.received()).extracting(TestClient.Received::payload).doesNotContain(question);
  }

  @Test
  void withoutGrants_nodeA_receivesNoneOfNodeBsAnswers() throws Exception {
    TestClient a = node("gw-a");
    TestClient b = node("gw-b");
    TestClient ops = operator();
    TestClient ctl = controller(0);
    for (String filter :
        List.of(escalationReply(B, "gw-a"), B.prefix() + "answers/#", "edge/v1/+/+/answers/#")) {
      System.out.printf("gw-a SUBSCRIBE %s -> 0x%02x%n", filter, a.subscribe(filter));
    }
    assertThat(a.subscribe(A.ask())).isLessThan(0x80);
    assertThat(ops.subscribe(B.prefix() + "answers/#")).isLessThan(0x80);
    List<String> answers = new ArrayList<>();
    for (String topic : List.of(escalationReply(B, "gw-a"), B.prefix() + "answers/q-1")) {
      answers.add(publishSeenBy(b, topic, ops));
    }
    awaitBarrier(ctl, a, A);
    assertThat(a.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(answers);
  }

  @Test
  void withTheEscalationGrants_gwSmallAsksGwBigAndGetsItsAnswer() throws Exception {
    TestClient small = node("gw-small");
    TestClient big = node("gw-big");
    // What PeerNodeTarget subscribes, and what the peer's agent subscribes.
    String reply = escalationReply(BIG, "gw-small");
    assertThat(small.subscribe(reply)).isLessThan(0x80);
    assertThat(big.subscribe(BIG.ask())).isLessThan(0x80);
    String question = unique("escalated-question");
    assertThat(small.publish(BIG.ask(), question, false, escalationProps(reply))).isLessThan(0x80);
    var q = big.await(r -> r.payload().equals(question), "gw-small's escalated question");
    assertThat(q.properties().getResponseTopic()).isEqualTo(reply);
    // gw-big answers inside its own answers tree, with what the production ACL already grants it.
    MqttProperties answerProps = new MqttProperties();
    answerProps.setCorrelationData(q.properties().getCorrelationData());
    String answer = unique("gw-big-answer");
    assertThat(big.publish(q.properties().getResponseTopic(), answer, false, answerProps))
        .isLessThan(0x80);
    var got = small.await(r -> r.payload().equals(answer), "gw-big's answer");
    assertThat(new String(got.properties().getCorrelationData(), StandardCharsets.UTF_8))
        .isEqualTo(ESCALATION_ID);
  }

  @Test
  void withTheEscalationGrants_gwBigStillCannotAskGwSmall_norReadItsAnswers() throws Exception {
    TestClient small = node("gw-small");
    TestClient big = node("gw-big");
    TestClient ops = operator();
    TestClient ctl = controller(0);
    assertThat(small.subscribe(SMALL.ask())).isLessThan(0x80);
    String reverse = escalationReply(SMALL, "gw-big");
    for (String filter : List.of(reverse, SMALL.prefix() + "answers/#")) {
      System.out.printf("gw-big SUBSCRIBE %s -> 0x%02x%n", filter, big.subscribe(filter));
    }
    assertThat(big.subscribe(BIG.ask())).isLessThan(0x80);
    assertThat(ops.subscribe(SMALL.prefix() + "answers/#")).isLessThan(0x80);
    String question = unique("question-from-gw-big");
    int code = big.publish(SMALL.ask(), question, false, escalationProps(reverse));
    System.out.printf("gw-big PUBLISH %s -> 0x%02x%n", SMALL.ask(), code);
    String smallsAnswer = publishSeenBy(small, reverse, ops);
    awaitBarrier(ctl, small, SMALL);
    awaitBarrier(ctl, big, BIG);
    assertThat(small.received()).extracting(TestClient.Received::payload).doesNotContain(question);
    assertThat(big.received())
        .extracting(TestClient.Received::payload)
        .doesNotContain(smallsAnswer);
  }

  @Test
  void withTheEscalationGrants_gwSmallReadsOnlyItsOwnReplyTopic_andOthersCannotAskGwBig()
      throws Exception {
    TestClient small = node("gw-small");
    TestClient big = node("gw-big");
    TestClient a = node("gw-a");
    TestClient ops = operator();
    TestClient ctl = controller(0);
    // gw-small may write gw-big's ask topic, not read it: other askers' questions stay unseen.
    for (String filter :
        List.of(
            BIG.ask(),
            BIG.prefix() + "answers/#",
            escalationReply(BIG, "gw-a"),
            BIG.prefix() + "answers/q-1")) {
      System.out.printf("gw-small SUBSCRIBE %s -> 0x%02x%n", filter, small.subscribe(filter));
    }
    assertThat(small.subscribe(SMALL.ask())).isLessThan(0x80);
    assertThat(big.subscribe(BIG.ask())).isLessThan(0x80);
    assertThat(ops.subscribe(BIG.prefix() + "answers/#")).isLessThan(0x80);
    List<String> notForSmall = new ArrayList<>(List.of(publishSeenBy(ops, BIG.ask(), big)));
    for (String topic : List.of(escalationReply(BIG, "gw-a"), BIG.prefix() + "answers/q-1")) {
      notForSmall.add(publishSeenBy(big, topic, ops));
    }
    // A node without the grant (gw-a) still cannot ask gw-big.
    String fromA = unique("question-from-gw-a");
    System.out.printf("gw-a PUBLISH %s -> 0x%02x%n", BIG.ask(), a.publish(BIG.ask(), fromA, false));
    awaitBarrier(ctl, big, BIG);
    awaitBarrier(ctl, small, SMALL);
    assertThat(big.received()).extracting(TestClient.Received::payload).doesNotContain(fromA);
    assertThat(small.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(notForSmall);
  }

  /** A question's MQTT 5 properties as {@code PeerNodeTarget} sets them. */
  private static MqttProperties escalationProps(String responseTopic) {
    MqttProperties props = new MqttProperties();
    props.setResponseTopic(responseTopic);
    props.setCorrelationData(ESCALATION_ID.getBytes(StandardCharsets.UTF_8));
    return props;
  }

  /**
   * Publishes a new payload from {@code from} on {@code topic}, which it may write, and waits until
   * {@code witness}, which may read it, has it: the message was really sent. Returns the payload.
   */
  private static String publishSeenBy(TestClient from, String topic, TestClient witness)
      throws Exception {
    String payload = unique(from.name + "-on-" + topic);
    assertThat(from.publish(topic, payload, false))
        .as("%s on %s", from.name, topic)
        .isLessThan(0x80);
    witness.await(r -> r.payload().equals(payload), from.name + "'s message on " + topic);
    return payload;
  }

  /**
   * The controller {@code ctl} asks {@code node} a barrier question on its own ask topic, and this
   * waits until the node has it: whatever the broker routed to the node before is in its received
   * list then.
   */
  private static void awaitBarrier(TestClient ctl, TestClient node, NodeTopics own)
      throws Exception {
    publishSeenBy(ctl, own.ask(), node);
  }

  @Test
  void operator_asksANodeAndReadsTheAnswer_butCannotPublishAsANode() throws Exception {
    TestClient a = node("gw-a");
    TestClient ops = operator();
    TestClient ctl = controller(0);
    assertThat(a.subscribe(A.ask())).isLessThan(0x80);
    assertThat(ctl.subscribe(Topics.filter(Channel.STATUS))).isLessThan(0x80);
    String q = unique("operator-question");
    assertThat(ops.publish(A.ask(), q, false)).isLessThan(0x80);
    a.await(r -> r.payload().equals(q), "the operator's question");
    String forged = unique("operator-forged-status");
    ops.publish(A.status(), forged, false);
    String barrier = unique("barrier");
    a.publish(A.status(), barrier, false);
    ctl.await(r -> r.payload().equals(barrier), "the barrier");
    assertThat(ctl.received()).extracting(TestClient.Received::payload).doesNotContain(forged);
  }

  @Test
  void nodeA_cannotKnockNodeBOffline_byPresentingItsClientId() throws Exception {
    // Without use_username_as_clientid the broker would close gw-b's connection as a session
    // takeover (MQTT 5 section 3.1.4; Mosquitto 2.0.11 closes it without DISCONNECT 0x8E). With
    // it, gw-a's requested client id "gw-b" is replaced by its certificate's CN, "gw-a".
    TestClient b = node("gw-b");
    assertThat(b.subscribe(B.ask())).isLessThan(0x80);
    TestClient a = track(TestClient.connect(broker.url(), "gw-b", pki.node("gw-a")));
    assertThat(a.connected()).isTrue();
    // The attacker's CONNECT was handled before its CONNACK came back: had it taken gw-b's
    // session, gw-b's connection would be closed now, and await() below fails on a disconnect.
    TestClient ctl = controller(0);
    String q = unique("question-for-gw-b");
    assertThat(ctl.publish(B.ask(), q, false)).isLessThan(0x80);
    b.await(r -> r.payload().equals(q), "the question after gw-a presented its client id");
    assertThat(b.connected()).as("gw-b: %s", b.disconnectReason()).isTrue();
    assertThat(a.connected()).as("gw-a: %s", a.disconnectReason()).isTrue();
  }

  @Test
  void theClientIdIsTheCertificateIdentity() throws Exception {
    // Two connections with gw-a's certificate and different requested client ids: both become
    // "gw-a", so the second takes the first one's session, as the same client id always does.
    TestClient first = track(TestClient.connect(broker.url(), "gw-a-first", pki.node("gw-a")));
    assertThat(first.subscribe(A.ask())).isLessThan(0x80);
    TestClient second = track(TestClient.connect(broker.url(), "gw-a-second", pki.node("gw-a")));
    assertThat(second.subscribe(A.ask())).isLessThan(0x80);
    first.awaitDisconnected("the second connection with the same certificate");
    TestClient ctl = controller(0);
    String q = unique("question-for-gw-a");
    assertThat(ctl.publish(A.ask(), q, false)).isLessThan(0x80);
    second.await(r -> r.payload().equals(q), "the question on the connection that took over");
    assertThat(second.connected()).as("second: %s", second.disconnectReason()).isTrue();
    assertThat(first.received()).extracting(TestClient.Received::payload).doesNotContain(q);
  }

  @Test
  void anotherNodesClientId_givesNoneOfItsRights() throws Exception {
    // gw-d connects with the client id "gw-b": its rights still follow its certificate (gw-d).
    TestClient d = track(TestClient.connect(broker.url(), "gw-b", pki.node("gw-d")));
    NodeTopics dTopics = Topics.node(SITE, "gw-d");
    d.subscribe(B.ask());
    assertThat(d.subscribe(dTopics.ask())).isLessThan(0x80);
    TestClient ctl = controller(0);
    assertThat(ctl.subscribe(Topics.filter(Channel.STATUS))).isLessThan(0x80);
    String q = unique("question-for-gw-b");
    ctl.publish(B.ask(), q, false);
    String forged = unique("forged-status");
    d.publish(B.status(), forged, false);
    String own = unique("own-status");
    assertThat(d.publish(dTopics.status(), own, false)).isLessThan(0x80);
    ctl.await(r -> r.payload().equals(own), "gw-d's own status");
    String barrier = unique("barrier");
    ctl.publish(dTopics.ask(), barrier, false);
    d.await(r -> r.payload().equals(barrier), "the barrier");
    assertThat(d.received()).extracting(TestClient.Received::payload).doesNotContain(q);
    assertThat(ctl.received()).extracting(TestClient.Received::payload).doesNotContain(forged);
  }

  // --- who may connect --------------------------------------------------------------------------

  @Test
  void clientWithoutCertificate_isRefused() throws Exception {
    assertThatThrownBy(() -> TestClient.connect(broker.url(), "gw-a", pki.anonymous()))
        .isInstanceOf(MqttException.class);
  }

  @Test
  void clientWithCertificateFromAnotherCa_isRefused() throws Exception {
    // The same CN, signed by a CA the broker does not trust.
    TestPki other = TestPki.create(tmp.resolve("other-ca"));
    var stranger = other.issueClient("gw-a");
    Path trustOurs = pki.caCert();
    var factory = FleetPki.fromPem(stranger.certificate(), stranger.privateKey(), trustOurs);
    assertThatThrownBy(() -> TestClient.connect(broker.url(), "gw-a", factory))
        .isInstanceOf(MqttException.class);
  }

  @Test
  void revokedNode_isRefused_whileOthersConnect() throws Exception {
    assertThatThrownBy(() -> TestClient.connect(broker.url(), "gw-c", pki.node("gw-c")))
        .isInstanceOf(Exception.class);
    assertThat(node("gw-d").connected()).isTrue();
  }

  @Test
  void plainMqttOnTheTlsPort_isRefused() {
    assertThatThrownBy(() -> TestClient.connect("tcp://127.0.0.1:" + broker.port, "gw-a", null))
        .isInstanceOf(MqttException.class);
  }

  // --- the controller ---------------------------------------------------------------------------

  @Test
  void controller_canDoWhatTheControllerDoes() throws Exception {
    TestClient ctl = controller(0);
    TestClient a = node("gw-a");
    // Registry, health, journal, results, progress and chunk requests: the controller's own
    // filters,
    // shared where FleetIngest and ChunkServer share them.
    assertThat(ctl.subscribe(Topics.filter(Channel.BIRTH))).isLessThan(0x80);
    assertThat(ctl.subscribe(Topics.filter(Channel.STATUS))).isLessThan(0x80);
    for (Channel ch :
        List.of(
            Channel.HEALTH,
            Channel.JOURNAL,
            Channel.UPDATE_RESULT,
            Channel.UPDATE_PROGRESS,
            Channel.UPDATE_REQUEST)) {
      assertThat(ctl.subscribe(Topics.sharedFilter("fleet", ch))).as("%s", ch).isLessThan(0x80);
      String m = unique(ch.suffix());
      assertThat(a.publish(A.topic(ch), m, false)).isLessThan(0x80);
      ctl.await(
          r -> r.payload().equals(m), "gw-a's " + ch.suffix() + " via the shared subscription");
    }
    String birth = unique("birth");
    a.publish(A.birth(), birth, true);
    ctl.await(r -> r.payload().equals(birth), "gw-a's birth");
    // Assignments, chunks, commands and journal acknowledgements reach the node.
    for (Channel ch : Channel.values()) {
      if (ch.direction() == Channel.Direction.TO_NODE) {
        assertThat(a.subscribe(A.topic(ch))).isLessThan(0x80);
        String m = unique(ch.suffix());
        assertThat(ctl.publish(A.topic(ch), m, false)).isLessThan(0x80);
        a.await(r -> r.payload().equals(m), ch.suffix() + " from the controller");
      }
    }
    // "Ask a node": question with the replica's reply topic; the node answers there.
    String replyTopic = "fleet/v1/controller-0/reply";
    assertThat(ctl.subscribe(replyTopic)).isLessThan(0x80);
    MqttProperties props = new MqttProperties();
    props.setResponseTopic(replyTopic);
    props.setCorrelationData("c-1".getBytes(StandardCharsets.UTF_8));
    String question = unique("question");
    ctl.publish(A.ask(), question, false, props);
    var q = a.await(r -> r.payload().equals(question), "the question");
    assertThat(q.properties().getResponseTopic()).isEqualTo(replyTopic);
    String answer = unique("answer");
    assertThat(a.publish(q.properties().getResponseTopic(), answer, false)).isLessThan(0x80);
    ctl.await(r -> r.payload().equals(answer), "the node's answer");
    a.publish(A.birth(), "", true);
  }

  @Test
  void controller_cannotImpersonateNodesNorReadQuestionsReportsOrOtherReplies() throws Exception {
    TestClient ctl0 = controller(0);
    TestClient ctl1 = controller(1);
    TestClient a = node("gw-a");
    assertThat(ctl1.subscribe(Topics.filter(Channel.STATUS))).isLessThan(0x80);
    assertThat(ctl1.subscribe(Topics.filter(Channel.BIRTH))).isLessThan(0x80);
    assertThat(ctl1.subscribe(Topics.sharedFilter("fleet", Channel.HEALTH))).isLessThan(0x80);
    // controller-0 tries to speak for gw-b.
    List<String> forged = new ArrayList<>();
    for (Channel ch :
        List.of(Channel.STATUS, Channel.BIRTH, Channel.HEALTH, Channel.UPDATE_RESULT)) {
      String f = unique("forged-by-controller-" + ch.suffix());
      forged.add(f);
      System.out.printf("forged PUBLISH -> 0x%02x%n", ctl0.publish(B.topic(ch), f, false));
    }
    // controller-0 listens for questions, reports and the other replica's replies.
    for (String filter : List.of(A.ask(), A.report(), "fleet/v1/controller-1/reply", "#")) {
      System.out.printf("controller-0 SUBSCRIBE %s -> 0x%02x%n", filter, ctl0.subscribe(filter));
    }
    String question = unique("question-from-controller-1");
    ctl1.publish(A.ask(), question, false);
    String report = unique("report");
    assertThat(a.publish(A.report(), report, false)).isLessThan(0x80);
    String reply = unique("reply-to-controller-1");
    assertThat(a.publish("fleet/v1/controller-1/reply", reply, false)).isLessThan(0x80);
    String barrier = unique("barrier");
    assertThat(a.publish(A.status(), barrier, false)).isLessThan(0x80);
    ctl1.await(r -> r.payload().equals(barrier), "the barrier");
    ctl0.await(r -> r.payload().equals(barrier), "the barrier");
    assertThat(ctl1.received())
        .extracting(TestClient.Received::payload)
        .doesNotContainAnyElementsOf(forged);
    assertThat(ctl0.received())
        .extracting(TestClient.Received::payload)
        .doesNotContain(question, report, reply);
  }

  @Test
  void controllerIdentity_worksThroughTheJvmPropertiesTheStatefulSetSets() throws Exception {
    // The controller has no fleet.mqtt TLS keys: its pod passes the key and trust stores as
    // javax.net.ssl.* system properties (JAVA_OPTS in base/fleet-controller.yaml) and Paho's
    // default
    // SSL socket factory reads them. A child JVM does exactly that.
    String pw = new String(pki.password());
    ChildJvm.Result r =
        ChildJvm.of(ControllerTlsProbe.class.getName())
            .systemProperty(
                "javax.net.ssl.keyStore", pki.dir.resolve("controller/controller-0.p12").toString())
            .systemProperty("javax.net.ssl.keyStoreType", "PKCS12")
            .systemProperty("javax.net.ssl.keyStorePassword", pw)
            .systemProperty(
                "javax.net.ssl.trustStore", pki.dir.resolve("controller/truststore.p12").toString())
            .systemProperty("javax.net.ssl.trustStoreType", "PKCS12")
            .systemProperty("javax.net.ssl.trustStorePassword", pw)
            .args(broker.url(), "controller-0", "fleet/v1/controller-0/reply")
            .timeout(Duration.ofMinutes(2))
            .run();
    r.requireExitCode(0);
  }
}
