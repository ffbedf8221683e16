#!/usr/bin/env bash
# Update transfer benchmark: a SIZE_MB bundle (default 1024) over the local Mosquitto with the
# node's downloader vs mosquitto_pub/mosquitto_sub moving the same messages, plus refetch after a
# stop at half way. Usage: bench/updates/run.sh [SIZE_MB] [BROKER_URL]
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -B -q -pl node-agent test-compile
CP_FILE=$(mktemp)
./mvnw -B -q -pl node-agent dependency:build-classpath -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test
CP="node-agent/target/test-classes:node-agent/target/classes:$(cat "$CP_FILE")"
rm -f "$CP_FILE"
exec "$JAVA_HOME/bin/java" -Xmx1g ${BENCH_OPTS:-} -cp "$CP" io.edgeslm.agent.update.UpdateTransferBench "${1:-1024}" "${2:-tcp://127.0.0.1:1883}"
