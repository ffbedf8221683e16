#!/usr/bin/env bash
# Fleet-controller scale benchmark: heartbeat ingest at a 30 s heartbeat for growing fleets, and
# the time to dispatch one rollout wave to 10,000 nodes. Needs the local PostgreSQL
# (127.0.0.1:5432, trust auth) and the mosquitto binary. Not part of the test suite.
#
#   bench/controller/run.sh [fleet sizes, comma-separated] [seconds per size] [dispatch nodes]
#   bench/controller/run.sh 10000,30000,60000,100000 60 10000
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl fleet-controller test-compile -Dspotless.check.skip=true
./mvnw -B -q -pl fleet-controller dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath
CP="fleet-controller/target/classes:fleet-controller/target/test-classes:$(cat fleet-controller/target/bench.classpath)"
exec "$JAVA_HOME/bin/java" -Djava.util.logging.manager=org.jboss.logmanager.LogManager -Xmx4g -XX:+UseParallelGC -cp "$CP" \
  io.edgeslm.fleet.bench.FleetBenchmark "${1:-10000,30000,60000,100000}" "${2:-60}" "${3:-10000}"
