#!/usr/bin/env bash
# Engine benchmark (docs/benchmarks.md, "llama-server engine"): decode and prompt speed through the
# agent's llama-server engine against llama-bench of the same llama-server build (same model,
# same threads), and against the bundled worker (de.kherud:llama, llama.cpp b4916).
#   bench/engine/run.sh [--rounds N] [--threads N] [--n-predict N] [--prompt-words N]
# Env: SHAPE / TYPE (default llama-3.2-1b / q4_0) or MODEL; LLAMA_SERVER (default: the one
# scripts/ensure-llama-server.sh provides, built if missing). Prints the uptime load first and last.
# Ends with RESULT lines for bench/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh
JAVA="$JAVA_HOME/bin/java"
LLAMA_SERVER="${LLAMA_SERVER:-$(bash scripts/ensure-llama-server.sh)}"
LLAMA_BENCH="$(dirname "$LLAMA_SERVER")/llama-bench"
# The reactor resolves sibling modules to their target/classes (nothing is installed in ~/.m2).
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
THREADS=2
for ((i = 1; i <= $#; i++)); do [ "${!i}" = "--threads" ] && { j=$((i + 1)); THREADS="${!j}"; }; done
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "load before: $(uptime)" | tee -a "$OUT"
"$JAVA" -Xmx1g --enable-native-access=ALL-UNNAMED -cp "$CP" \
  io.edgeslm.inference.bench.EngineBenchmark --model "$MODEL" --llama-server "$LLAMA_SERVER" "$@" | tee -a "$OUT"
# llama-bench on the same prompt length (in tokens, as the engine counted them) and the same number
# of generated tokens at the same context depth: the engine decodes after its prompt, so each token
# attends over that many cached tokens, and a tg row at depth 0 would be faster than any engine can
# be (measured: tg64 20.4 tok/s at depth 0, 15.9 at depth 717). Same environment as the engine gives
# its server (OMP_WAIT_POLICY=PASSIVE), so both run alike.
PROMPT_TOKENS=$(sed -n 's/^llama-server round [0-9]*:.*prompt [0-9.]* tok\/s (\([0-9]*\) tokens.*/\1/p' "$OUT" | tail -n 1)
GEN_TOKENS=$(sed -n 's/^llama-server round [0-9]*: decode [0-9.]* tok\/s (\([0-9]*\) tokens.*/\1/p' "$OUT" | tail -n 1)
[ -n "$PROMPT_TOKENS" ] && [ -n "$GEN_TOKENS" ] || { echo "bench/engine: no llama-server rounds in the output" >&2; exit 1; }
OMP_WAIT_POLICY=PASSIVE "$LLAMA_BENCH" -m "$MODEL" -t "$THREADS" -p "$PROMPT_TOKENS" -n 0 -r 3 -o csv 2>/dev/null | tee -a "$OUT"
OMP_WAIT_POLICY=PASSIVE "$LLAMA_BENCH" -m "$MODEL" -t "$THREADS" -p 0 -n "$GEN_TOKENS" -d "$PROMPT_TOKENS" -r 3 -o csv 2>/dev/null | tee -a "$OUT"
echo "load after: $(uptime)" | tee -a "$OUT"

awk -v model="$(basename "$MODEL")" -v pt="$PROMPT_TOKENS" -v gt="$GEN_TOKENS" '
  function num(s) { return match(s, /[-+]?[0-9]+(\.[0-9]+)?/) ? substr(s, RSTART, RLENGTH) + 0 : 0 }
  # llama-bench CSV: the last two columns are avg_ts,stddev_ts; n_prompt and n_gen tell pp from tg.
  /^"/ && !/build_commit/ {
    n = split($0, f, ","); gsub(/"/, "", f[n - 1])
    for (i = 1; i <= n; i++) { gsub(/"/, "", f[i]) }
    if (index($0, ",\"" pt "\",\"0\",")) pp = f[n - 1] + 0
    if (index($0, ",\"0\",\"" gt "\",")) tg = f[n - 1] + 0
  }
  /^RESULT llama-server engine:/ { split($0, a, ","); ld = num(substr(a[1], index(a[1], "decode"))); lp = num(a[2]) }
  /^RESULT worker engine:/ { split($0, a, ","); wd = num(substr(a[1], index(a[1], "decode"))); wp = num(a[2]) }
  END {
    if (tg > 0) printf "RESULT name=engine.decode-vs-llama-bench measured=%.2f baseline=%.2f unit=tok/s ratio=%.3f target=>=0.97 met=%s desc=decode through the llama-server engine vs llama-bench tg" gt " at depth " pt " (the engine\047s context) of the same build (%s)\n", ld, tg, ld / tg, (ld / tg >= 0.97 ? "yes" : "no"), model
    if (pp > 0) printf "RESULT name=engine.prompt-vs-llama-bench measured=%.1f baseline=%.1f unit=tok/s ratio=%.3f target=>=0.95 met=%s desc=prompt speed through the llama-server engine vs llama-bench pp" pt " (the same prompt length) of the same build\n", lp, pp, lp / pp, (lp / pp >= 0.95 ? "yes" : "no")
    if (wd > 0) printf "RESULT name=engine.decode-vs-worker measured=%.2f baseline=%.2f unit=tok/s ratio=%.3f target=- met=- desc=decode, llama-server engine vs the bundled worker (llama.cpp b4916)\n", ld, wd, ld / wd
    if (wp > 0) printf "RESULT name=engine.prompt-vs-worker measured=%.1f baseline=%.1f unit=tok/s ratio=%.3f target=- met=- desc=prompt speed, llama-server engine vs the bundled worker\n", lp, wp, lp / wp
  }' "$OUT"
