#!/usr/bin/env bash
# Fleet-controller scale benchmark: heartbeat ingest at a 30 s heartbeat for growing fleets, and
# the time to dispatch one rollout wave to 10,000 nodes. Needs the local PostgreSQL
# (127.0.0.1:5432, trust auth) and the mosquitto binary. Not part of the test suite.
#
#   bench/controller/run.sh [fleet sizes, comma-separated] [seconds per size] [dispatch nodes]
#   bench/controller/run.sh 10000,30000,60000,100000 60 10000
# After the benchmark's own output it prints machine-readable lines for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
# One reactor build, so sibling modules resolve to their target/classes (no install needed).
./mvnw -B -q -pl fleet-controller -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath -Dspotless.check.skip=true
CP="fleet-controller/target/classes:fleet-controller/target/test-classes:$(cat fleet-controller/target/bench.classpath)"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$JAVA_HOME/bin/java" -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx4g -XX:+UseParallelGC -cp "$CP" \
  io.edgeslm.fleet.bench.FleetBenchmark "${1:-10000,30000,60000,100000}" "${2:-60}" "${3:-10000}" | tee "$OUT"

# Machine-readable results from the lines above: one per fleet size, the largest fleet sustained
# (p99 ingest lag < 1 s, nothing dropped; target 100,000 nodes) and the wave dispatch.
awk -v secs="${2:-60}" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  function field(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return num(substr($i, length(k) + 2)); return 0 }
  /^nodes=[0-9]+ published=/ {
    n = field("nodes"); p99 = field("p99"); dropped = field("dropped")
    b = num(substr($0, index($0, "broker-only p99=") + 16))
    ok = ($0 ~ /NOT SUSTAINED/) ? "no" : "yes"
    if (ok == "yes" && n > largest) largest = n
    printf "RESULT name=controller.ingest-%d measured=%d baseline=%d unit=ms ratio=%.1f target=p99<1000ms,0-dropped met=%s desc=heartbeat ingest p99 lag, %d nodes at a 30 s heartbeat (%d s measured, %d dropped) vs a bare subscriber p99 on the same broker\n", n, p99, b, p99 / (b > 0 ? b : 1), ok, n, secs, dropped
    sizes++
  }
  /^dispatched [0-9]+ assignments/ { dn = num($0); ds = num(substr($0, index($0, " in "))) }
  /^baseline raw publish of/ { bs = num(substr($0, index($0, ":"))); dr = num(substr($0, index($0, "| ratio"))) }
  END {
    if (sizes > 0)
      printf "RESULT name=controller.largest measured=%d baseline=- unit=nodes ratio=- target=>=100000 met=%s desc=largest fleet sustained (p99 ingest lag < 1 s, nothing dropped) among the sizes run\n", largest, (largest >= 100000 ? "yes" : "no")
    if (dn > 0 && bs > 0)
      printf "RESULT name=controller.dispatch measured=%.2f baseline=%.2f unit=s ratio=%.1f target=- met=- desc=rollout wave to %d nodes, create to last retained assignment received, vs one client publishing as many retained messages\n", ds, bs, (dr > 0 ? dr : ds / bs), dn
  }' "$OUT"
