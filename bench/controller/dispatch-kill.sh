#!/usr/bin/env bash
# Rollout wave dispatch with two controller replicas sharing the outbox, one killed mid-wave:
# replica A in the benchmark's JVM, replica B in a child JVM that creates the rollout (first wave:
# every node) and is killed with SIGKILL once a fraction of the nodes got their assignment; A
# publishes what B left in the outbox once its lease ran out. Needs the local PostgreSQL
# (127.0.0.1:5432, trust auth) and mosquitto. Not part of the test suite.
#
#   bench/controller/dispatch-kill.sh [nodes] [outbox lease seconds] [kill once this fraction of nodes got theirs]
#   bench/controller/dispatch-kill.sh 100000 30 0.33
# After the benchmark's own output it prints a machine-readable line for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
NODES=${1:-100000}
LEASE=${2:-30}
KILL=${3:-0.33}
./mvnw -B -q -pl fleet-controller -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath -Dspotless.check.skip=true
CP="fleet-controller/target/classes:fleet-controller/target/test-classes:$(cat fleet-controller/target/bench.classpath)"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$JAVA_HOME/bin/java" -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx4g -XX:+UseParallelGC -cp "$CP" \
  io.edgeslm.fleet.bench.FleetDispatchKill "$NODES" "$LEASE" "$KILL" | tee "$OUT"

awk -v nodes="$NODES" -v lease="$LEASE" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  function after(k,   i) { i = index($0, k); return i ? num(substr($0, i + length(k))) : 0 }
  /^dispatched: / { got = num($0); secs = after("the last after "); twice = after(", 2: "); more = after("more: "); ids = after("max ") }
  /^every node got its assignment/ { ok = 1 }
  /^baseline raw publish of/ { base = after(": "); s = $0; sub(/.*bytes\): /, "", s); base = num(s) }
  END {
    if (secs > 0 && base > 0)
      printf "RESULT name=controller.dispatch-kill measured=%.2f baseline=%.2f unit=s ratio=%.1f target=every-node-once met=%s desc=rollout wave to %d nodes over two replicas, one killed with SIGKILL mid-wave (outbox lease %d s): create to the last node'"'"'s assignment, %d of %d nodes, %d got it twice from the broker (at least once), max %d assignment ids per node, vs one client publishing as many retained messages\n", secs, base, secs / base, (ok ? "yes" : "no"), nodes, lease, got, nodes, twice + more, ids
  }' "$OUT"
