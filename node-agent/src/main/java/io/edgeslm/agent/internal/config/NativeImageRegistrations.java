package io.edgeslm.agent.internal.config;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * What a native image needs registered beyond what Quarkus finds itself: the wire records are read
 * and written by Jackson through their constructors and accessors. Resources (the protocol's JSON
 * schema) are listed in {@code application.properties}. The MQTT layer's client (HiveMQ, Netty) has
 * not been built native here yet (ADR 0023).
 */
@RegisterForReflection(
    targets = {
      io.edgeslm.protocol.Question.class,
      io.edgeslm.protocol.Reply.class,
      io.edgeslm.protocol.Answer.class,
      io.edgeslm.protocol.AnswerEscalation.class,
      io.edgeslm.protocol.AnswerPart.class,
      io.edgeslm.protocol.ErrorReply.class,
      io.edgeslm.protocol.ErrorCode.class,
      io.edgeslm.protocol.AnswerTimings.class,
      io.edgeslm.protocol.SensorCitation.class,
      io.edgeslm.protocol.SensorReading.class,
      io.edgeslm.protocol.ModelRef.class,
      io.edgeslm.protocol.Source.class,
      io.edgeslm.protocol.SensorReport.class,
      io.edgeslm.protocol.ReportContent.class,
      io.edgeslm.protocol.ReportProvenance.class,
      io.edgeslm.protocol.ReportStatus.class,
      io.edgeslm.protocol.Anomaly.class,
      io.edgeslm.protocol.TimeWindow.class,
      io.edgeslm.protocol.NodeStatus.class,
      io.edgeslm.protocol.NodeState.class,
      io.edgeslm.protocol.NodeBirth.class,
      io.edgeslm.protocol.NodeHealth.class
    })
public final class NativeImageRegistrations {
  private NativeImageRegistrations() {}
}
