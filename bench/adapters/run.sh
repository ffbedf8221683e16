#!/usr/bin/env bash
# Adapter swap benchmark (docs/benchmarks.md, "LoRA adapter swap"): how long llama-server of the
# pinned release takes to change what a node answers with
#   - base swap: stop the server, start it on another base of the same shape, until /health is 200;
#   - adapter restart: start it on the same base with a new adapter file (--lora), until ready
#     (a new adapter file needs a restart in this release: /lora-adapters only rescales the
#     adapters loaded at start);
#   - adapter switch: POST /lora-adapters moving scale 1.0 from one preloaded adapter to the other,
#     then a one-token completion (the switch is applied by the next request).
# All files are in the page cache after the first round, as on a node that just verified them.
#   bench/adapters/run.sh [ROUNDS]        Env: SHAPE / TYPE (default llama-3.2-1b / q4_0).
# Prints the uptime load first and last; ends with RESULT lines for bench/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/java-home.sh
JAVA="$JAVA_HOME/bin/java"
LLAMA_SERVER="${LLAMA_SERVER:-$(bash scripts/ensure-llama-server.sh)}"
ROUNDS="${1:-3}"
SHAPE="${SHAPE:-llama-3.2-1b}"
TYPE="${TYPE:-q4_0}"
DIR=bench/out/adapters
mkdir -p "$DIR"
./mvnw -B -q -pl testkit -am compile -Dspotless.check.skip
mapfile -t FILES < <("$JAVA" -cp testkit/target/classes bench/adapters/WriteSynthetic.java "$SHAPE" "$TYPE" "$DIR")
BASE_A="${FILES[0]}" BASE_B="${FILES[1]}" LORA_1="${FILES[2]}" LORA_2="${FILES[3]}"
PORT=$((20000 + RANDOM % 20000))
URL="http://127.0.0.1:$PORT"
PID=
stop() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; fi; }
trap stop EXIT
now() { date +%s%N; }
# Starts the server with the given arguments and sets MS to the milliseconds until /health is 200
# (llama-server answers 503 while loading). Not called in $(…): PID must be set in this shell.
start() {
  local t0 t1
  t0=$(now)
  "$LLAMA_SERVER" --host 127.0.0.1 --port "$PORT" -t 2 -c 1024 -np 1 "$@" >"$DIR/server.log" 2>&1 &
  PID=$!
  until curl -sf "$URL/health" >/dev/null 2>&1; do
    kill -0 "$PID" 2>/dev/null || { tail -20 "$DIR/server.log" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(now)
  MS=$(((t1 - t0) / 1000000))
}
one_token() {
  curl -sf "$URL/completion" -d '{"prompt":"The pump","n_predict":1,"cache_prompt":false}' >/dev/null
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "load before: $(uptime)"
echo "base $(du -h "$BASE_A" | cut -f1), adapter $(du -h "$LORA_1" | cut -f1) ($SHAPE $TYPE, rank 8)"
start -m "$BASE_A"; stop # warm the page cache
base_ms=() restart_ms=() switch_ms=()
for ((r = 1; r <= ROUNDS; r++)); do
  start -m "$BASE_A"; stop
  start -m "$BASE_B"; base_ms+=("$MS"); stop
  start -m "$BASE_A" --lora "$LORA_1"; stop
  start -m "$BASE_A" --lora "$LORA_2"; restart_ms+=("$MS"); stop
done
start -m "$BASE_A" --lora "$LORA_1" --lora "$LORA_2"
for ((r = 1; r <= ROUNDS * 3; r++)); do
  if ((r % 2)); then body='[{"id":0,"scale":0},{"id":1,"scale":1}]'; else body='[{"id":0,"scale":1},{"id":1,"scale":0}]'; fi
  t0=$(now)
  curl -sf "$URL/lora-adapters" -d "$body" >/dev/null
  one_token
  t1=$(now)
  switch_ms+=($(((t1 - t0) / 1000000)))
done
t0=$(now); for ((r = 1; r <= ROUNDS * 3; r++)); do one_token; done; t1=$(now)
token_ms=$(((t1 - t0) / 1000000 / (ROUNDS * 3)))
stop
echo "base swap ms: ${base_ms[*]}; adapter restart ms: ${restart_ms[*]}; adapter switch + 1 token ms: ${switch_ms[*]}; 1 token alone ms: $token_ms"
echo "load after: $(uptime)"
B=$(printf '%s\n' "${base_ms[@]}" | median)
R=$(printf '%s\n' "${restart_ms[@]}" | median)
S=$(printf '%s\n' "${switch_ms[@]}" | median)
awk -v b="$B" -v r="$R" -v s="$S" -v t="$token_ms" -v m="$SHAPE $TYPE" 'BEGIN {
  printf "RESULT name=adapters.restart-vs-base-swap measured=%.0f baseline=%.0f unit=ms ratio=%.3f target=- met=- desc=median time to ready, llama-server restarted with a new adapter file vs on another base (%s, warm page cache)\n", r, b, r / b, m
  printf "RESULT name=adapters.switch-vs-base-swap measured=%.0f baseline=%.0f unit=ms ratio=%.4f target=- met=- desc=median POST /lora-adapters plus a one-token completion (%.0f ms of it the token alone) vs a base swap\n", s, b, s / b, t
}'
