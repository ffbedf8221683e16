#!/usr/bin/env bash
# Update transfer benchmark: a SIZE_MB bundle (default 1024) over Mosquitto with the node's
# downloader vs mosquitto_pub/mosquitto_sub moving the same messages, plus refetch after a stop at
# half way. Usage: bench/updates/run.sh [SIZE_MB] [BROKER_URL|private]
# The default, private, starts a Mosquitto of its own (default configuration, free port), so that
# other tests' bundle servers on the shared broker cannot answer the benchmark's chunk requests.
# BENCH_OPTS=-Dbench.link=paho measures the Paho link instead of the agent's HiveMQ link.
# BENCH_OPTS=-Dbench.sender=process runs the bundle server in a JVM of its own (the default: in the
# bench's JVM, beside the node); BENCH_OPTS=-Dbench.requests=N sets the requests in flight.
# After the benchmark's own output it prints machine-readable lines for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
# One reactor build, so sibling modules resolve to their target/classes (no install needed).
./mvnw -B -q -pl node-agent -am test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath -Dspotless.check.skip=true
CP="node-agent/target/test-classes:node-agent/target/classes:$(cat node-agent/target/bench.classpath)"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
# The downloader runs with the agent launcher's JIT setting (edgeslm-agent-start): it compiles less
# of what runs only a few thousand times, and the C2 compiler's work on Netty and the MQTT client was
# a third of this JVM's CPU per GiB without it (docs/benchmarks.md, updates).
"$JAVA_HOME/bin/java" -Xmx1g -XX:CompileThresholdScaling=20 ${BENCH_OPTS:-} -cp "$CP" io.edgeslm.agent.update.UpdateTransferBench "${1:-1024}" "${2:-private}" | tee "$OUT"

# Machine-readable results from the lines above.
awk -v mib="${1:-1024}" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  /mosquitto_pub\/sub baseline:/ { base = num(substr($0, index($0, ":"))) }
  /disk write \+ fsync:/ { disk = num(substr($0, index($0, ":"))) }
  /update downloader:/ { ours = num(substr($0, index($0, ":"))); r = num(substr($0, index($0, "(ratio"))) }
  /stopped at half way:/ { stopped = 1; kept = num(substr($0, index($0, ":"))); again = num(substr($0, index($0, ","))) }
  END {
    if (r == 0 && base > 0) r = ours / base
    if (base > 0 && ours > 0)
      printf "RESULT name=updates.transfer measured=%.1f baseline=%.1f unit=MB/s ratio=%.2f target=>=0.7x met=%s desc=update download of %d MiB over Mosquitto (256 KiB chunks, QoS 1) vs mosquitto_pub/mosquitto_sub moving the same messages\n", ours, base, r, (r >= 0.7 ? "yes" : "no"), mib
    if (disk > 0 && ours > 0)
      printf "RESULT name=updates.transfer-vs-disk measured=%.1f baseline=%.1f unit=MB/s ratio=%.2f target=- met=- desc=the same download vs writing the same bytes in chunk-size pieces to disk with one fsync (what the downloader must at least do)\n", ours, disk, ours / disk
    if (stopped)
      printf "RESULT name=updates.refetch measured=%.1f baseline=%.1f unit=MiB ratio=%s target=- met=- desc=fetched again after a stop at half way and a resume vs what a restart from zero would fetch again (the kept part)\n", again, kept, (kept > 0 ? sprintf("%.3f", again / kept) : "-")
  }' "$OUT"
