#!/usr/bin/env bash
# Fleet-controller soak, time-compressed: N simulated nodes at a real 30 s heartbeat while the
# controller's and the nodes' clock runs fast enough that DAYS of health history (with retention)
# are written in MINUTES. Needs the local PostgreSQL (127.0.0.1:5432, trust auth) and mosquitto.
#
#   bench/controller/soak.sh [nodes] [real minutes] [simulated days]
#   bench/controller/soak.sh 100000 40 7
# After the soak's own output it prints machine-readable lines for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
NODES=${1:-100000}
MINUTES=${2:-40}
DAYS=${3:-7}
# One reactor build, so sibling modules resolve to their target/classes (no install needed).
./mvnw -B -q -pl fleet-controller -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath -Dspotless.check.skip=true
CP="fleet-controller/target/classes:fleet-controller/target/test-classes:$(cat fleet-controller/target/bench.classpath)"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$JAVA_HOME/bin/java" -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx4g -XX:+UseParallelGC -cp "$CP" \
  io.edgeslm.fleet.bench.FleetSoak "$NODES" "$MINUTES" "$DAYS" | tee "$OUT"

awk -v nodes="$NODES" -v days="$DAYS" -v minutes="$MINUTES" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  function after(k,   i) { i = index($0, k); return i ? num(substr($0, i + length(k))) : 0 }
  /^soak: / { p99 = after(" p99="); b = after("broker-only p99="); dropped = after(" dropped=") }
  /^database size ratio/ { ratio = after("end/day1=") }
  /^database day 1:/ { d1 = after("day 1:") }
  /^database end:/ { dend = after("end:") }
  /^cpu per 1000 heartbeats/ { cc = after("controller="); pg = after("postgres-backends="); br = after("broker="); cr = after("controller/broker=") }
  /^reads at the end/ { ov = after("fleet overview "); s = $0; sub(/.*24 h chart of [^ ]+ /, "", s); chart = num(s); gn = after("gate over "); pn = after(" ms per node, "); s = $0; sub(/.*ms per node, /, "", s); gall = num(s); s = $0; sub(/.*gate over [0-9]+ nodes /, "", s); gate = num(s) }
  END {
    printf "RESULT name=controller.soak-lag measured=%.0f baseline=%.0f unit=ms ratio=%.1f target=p99<1000ms,0-dropped met=%s desc=soak p99 ingest lag (real ms), %d nodes at a 30 s heartbeat, %s simulated days in %s min with retention, %d dropped, vs a bare subscriber p99\n", p99, b, p99 / (b > 0 ? b : 1), (p99 < 1000 && dropped == 0 ? "yes" : "no"), nodes, days, minutes, dropped
    printf "RESULT name=controller.soak-size measured=%.1f baseline=%.1f unit=MiB ratio=%.2f target=<=1.5 met=%s desc=database size at the end of the soak vs after simulated day 1 (compressed: one message per bucket, see docs/benchmarks.md)\n", dend, d1, ratio, (ratio <= 1.5 ? "yes" : "no")
    printf "RESULT name=controller.cpu-per-heartbeat measured=%.2f baseline=%.2f unit=ms/1000 ratio=%.2f target=- met=- desc=controller CPU per 1000 heartbeats vs broker CPU per 1000 messages (PostgreSQL backends: %.1f ms per 1000)\n", cc, br, cr, pg
    printf "RESULT name=controller.soak-reads measured=%.1f baseline=- unit=ms ratio=- target=- met=- desc=at the end of the soak: fleet overview %.1f ms, 24 h chart %.1f ms, gate reads over %d nodes %.1f s (%.0f s for a wave of all %d)\n", ov, ov, chart, gn, gate, gall, nodes
  }' "$OUT"
