#!/usr/bin/env bash
# Inference benchmark: the scheduler + worker process against the binding used directly, on a
# synthetic model with Llama-3.2-1B's shape in Q4_0. Usage: bench/inference/run.sh [--rounds N]
# [--threads N] [--n-predict N]. Writes the model once (about 700 MiB) under bench/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
./mvnw -B -q install -N
./mvnw -B -q -pl inference test-compile
./mvnw -B -q -pl inference dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath
CP="inference/target/test-classes:inference/target/classes:$(cat inference/target/bench.classpath)"
MODEL="${MODEL:-bench/out/synthetic-llama-3.2-1b-q4_0-seed1.gguf}"
mkdir -p "$(dirname "$MODEL")"
if [ ! -f "$MODEL" ]; then
  "$JAVA" -cp "$CP" io.edgeslm.testkit.GgufWriterMain --shape llama-3.2-1b --type q4_0 --seed 1 "$MODEL"
fi
exec "$JAVA" -Xmx2g --enable-native-access=ALL-UNNAMED -cp "$CP" \
  io.edgeslm.inference.bench.InferenceBenchmark --model "$MODEL" "$@"
