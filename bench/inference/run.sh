#!/usr/bin/env bash
# Inference benchmark: the scheduler + worker process against the binding used directly, on a
# synthetic model with Llama-3.2-1B's shape in Q4_0. Usage: bench/inference/run.sh [--rounds N]
# [--threads N] [--n-predict N]. Writes the model once (about 700 MiB) under bench/out/.
# Env: SHAPE / TYPE (default llama-3.2-1b / q4_0; bench/run --quick uses tiny / q8_0) or MODEL.
# After the benchmark's own output it prints machine-readable lines for bench/run
# (RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh # a JDK 21+, as run-agent finds one
JAVA="$JAVA_HOME/bin/java"
# The reactor resolves sibling modules to their target/classes; nothing is installed in ~/.m2.
./mvnw -B -q -pl inference -am test-compile dependency:build-classpath -Dspotless.check.skip \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="inference/target/test-classes:inference/target/classes:$(cat inference/target/bench.classpath)"
SHAPE="${SHAPE:-llama-3.2-1b}"
TYPE="${TYPE:-q4_0}"
MODEL="${MODEL:-bench/out/synthetic-$SHAPE-$TYPE-seed1.gguf}"
mkdir -p "$(dirname "$MODEL")"
if [ ! -f "$MODEL" ]; then
  "$JAVA" -cp "$CP" io.edgeslm.testkit.GgufWriterMain --shape "$SHAPE" --type "$TYPE" --seed 1 "$MODEL"
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
"$JAVA" -Xmx2g --enable-native-access=ALL-UNNAMED -cp "$CP" \
  io.edgeslm.inference.bench.InferenceBenchmark --model "$MODEL" "$@" | tee "$OUT"

# Machine-readable results from the medians printed above (nothing when --only was given).
awk -v model="$(basename "$MODEL")" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  /^memory read bandwidth/ { for (i = 1; i <= NF; i++) if ($i == "ceiling") ceiling = num($(i + 1)) }
  /^RESULT direct:/ { split($0, a, ","); dt = num(a[1]); dd = num(a[2]); de = num(a[3]) }
  /^RESULT worker:/ { split($0, a, ","); wt = num(a[1]); wd = num(a[2]); we = num(a[3]) }
  END {
    if (dd == 0 || wd == 0) exit
    r = wd / dd
    printf "RESULT name=inference.decode measured=%.2f baseline=%.2f unit=tok/s ratio=%.3f target=>=0.97x met=%s desc=decode speed through scheduler + worker process vs the binding used directly (%s)\n", wd, dd, r, (r >= 0.97 ? "yes" : "no"), model
    printf "RESULT name=inference.end-to-end measured=%.2f baseline=%.2f unit=tok/s ratio=%.3f target=- met=- desc=end-to-end tokens/s (call to last token) through the worker vs directly\n", we, de, we / de
    printf "RESULT name=inference.ttft measured=%.1f baseline=%.1f unit=ms ratio=%.3f target=added<=10ms met=%s desc=time to first token through the worker vs directly (added %+.1f ms)\n", wt, dt, wt / dt, (wt - dt <= 10 ? "yes" : "no"), wt - dt
    if (ceiling > 0) printf "RESULT name=inference.ceiling measured=%.2f baseline=%.2f unit=tok/s ratio=%.3f target=- met=- desc=direct decode vs the memory-bandwidth ceiling (measured read bandwidth / model bytes)\n", dd, ceiling, dd / ceiling
  }' "$OUT"
