#!/usr/bin/env bash
# MQTT client libraries compared (ADR 0023): Eclipse Paho v5 and the HiveMQ MQTT client receiving
# and publishing N x 256 KiB QoS 1 messages through a private Mosquitto, each against the Mosquitto
# tools (mosquitto_sub / mosquitto_pub) moving the same messages in the same run.
# Usage: bench/mqtt/run.sh [N=1000] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
DIR=$(mktemp -d)
# The two clients at the versions the build uses, with the Netty the Quarkus platform manages.
prop() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$2" | head -1; }
cat > "$DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>bench</groupId><artifactId>client-rate</artifactId><version>1</version>
  <dependencyManagement><dependencies><dependency><groupId>io.quarkus.platform</groupId>
    <artifactId>quarkus-bom</artifactId><version>$(prop quarkus.platform.version pom.xml)</version>
    <type>pom</type><scope>import</scope></dependency></dependencies></dependencyManagement>
  <dependencies>
    <dependency><groupId>org.eclipse.paho</groupId><artifactId>org.eclipse.paho.mqttv5.client</artifactId>
      <version>$(prop paho.mqttv5.version pom.xml)</version></dependency>
    <dependency><groupId>com.hivemq</groupId><artifactId>hivemq-mqtt-client</artifactId>
      <version>$(prop hivemq-mqtt-client.version node-agent/pom.xml)</version></dependency>
  </dependencies>
</project>
POM
./mvnw -B -q -f "$DIR/pom.xml" dependency:build-classpath -Dmdep.outputFile="$DIR/cp.txt"
CP=$(cat "$DIR/cp.txt")
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$DIR/mosquitto.conf"
mosquitto -c "$DIR/mosquitto.conf" > "$DIR/mosquitto.log" 2>&1 &
BROKER=$!
trap 'kill $BROKER 2>/dev/null || true; rm -rf "$DIR"' EXIT
sleep 0.5
echo "mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}') on 127.0.0.1:$PORT; $(nproc) cores; uptime: $(uptime)"
"$JAVA_HOME/bin/java" -Xmx1g -cp "$CP" bench/mqtt/ClientRate.java "$PORT" "${1:-1000}" "${2:-2}"
