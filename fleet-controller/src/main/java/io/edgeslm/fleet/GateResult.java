package io.edgeslm.fleet;

import java.time.Instant;

/**
 * The outcome of a wave's health gate, with the aggregates it was decided on (null where no node
 * had data for a criterion).
 *
 * @param passed whether every checked criterion held
 * @param nodesMeasured installed nodes with health on the new model
 * @param nodesInstalled installed nodes in the wave
 * @param tokensPerSecondRatio median new/old tokens per second
 * @param p95LatencyRatio median new/old p95 latency
 * @param errorRateIncrease mean new − old error rate
 * @param minActivationScore lowest activation-check score
 * @param reason for people: which criterion failed, with value and limit, or "all criteria held"
 * @param at when it was evaluated
 */
public record GateResult(
    boolean passed,
    int nodesMeasured,
    int nodesInstalled,
    Double tokensPerSecondRatio,
    Double p95LatencyRatio,
    Double errorRateIncrease,
    Double minActivationScore,
    String reason,
    Instant at) {}
