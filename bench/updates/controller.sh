#!/usr/bin/env bash
# Update transfer from the controller's real ChunkServer (issue 18): a bundle of --mib MiB (default
# 1024) served in 256 KiB QoS 1 chunks on the controller's MQTT connection through a private
# Mosquitto to a downloader on the MQTT layer, vs mosquitto_pub/mosquitto_sub moving the same
# messages through the same broker in the same run (before and after; the mean is the baseline).
# Target: at least 0.7x. Needs the mosquitto, mosquitto_pub and mosquitto_sub binaries.
#
#   bench/updates/controller.sh [--mib N] [--broker URL|private] [--verify] [--warmup-mib N]
#                               [--warmup-messages N] [--downloader java|mosquitto]
#   bench/updates/controller.sh --mib 64      # a quick check that it works, not a measurement
#
# --verify makes the downloader check every chunk's SHA-256, as an agent does.
# --warmup-mib N first moves the first N MiB untimed, so that the timed transfer runs on JIT-compiled
# code, as in a controller that has served chunks before (the default, 0, includes the warm-up).
# --warmup-messages N first sends N small QoS 1 messages each way between a node connection and the
# controller's, untimed, and no chunk (a controller that has handled heartbeats, not yet chunks).
# --downloader mosquitto takes the chunks with mosquitto_sub and sends the requests with
# mosquitto_pub -l (this JVM only pipes sizes and request lines), so that the JVM's CPU figure is the
# ChunkServer's alone; its RESULT is named updates.chunk-server-to-mosquitto-sub.
# Output: the baseline (before, after, mean), the ChunkServer's rate and the ratio; the CPU time
# this JVM (server and downloader) spent per GiB during the transfer; the load average at the start
# and the end. The machine is shared: compare ratios of runs at a similar load, or the CPU figure.
# BENCH_JAVA_OPTS adds JVM options, e.g. BENCH_JAVA_OPTS=-XX:StartFlightRecording=filename=x.jfr
# Ends with a machine-readable line for bench/run
# (RESULT name=updates.chunk-server measured=... baseline=... unit=MB/s ratio=... target=>=0.7x ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
# The reactor resolves sibling modules to their target/classes; nothing is installed in ~/.m2.
./mvnw -B -q -pl fleet-controller -am test-compile dependency:build-classpath -Dspotless.check.skip \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="fleet-controller/target/test-classes:fleet-controller/target/classes:$(cat fleet-controller/target/bench.classpath)"
exec "$JAVA_HOME/bin/java" -Xmx1g ${BENCH_JAVA_OPTS:-} -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
  -cp "$CP" io.edgeslm.fleet.bench.ChunkTransferBench "$@"
