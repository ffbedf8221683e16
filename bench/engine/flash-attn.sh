#!/usr/bin/env bash
# Flash attention on and off in llama-bench of the engine's llama-server build (docs/benchmarks.md,
# "llama-server engine"): prompt speed (pp<P>) and decode speed at depth 0 and at the prompt's
# depth (tg<N> -d 0,<P>), the two settings alternated round by round, 2 threads,
# OMP_WAIT_POLICY=PASSIVE as the engine gives its server. The engine leaves the setting at
# llama-server's default (auto, which is on for the CPU backend); this says what the other choice
# would cost or gain on this CPU.
#   bench/engine/flash-attn.sh [ROUNDS] [PROMPT_TOKENS] [N_PREDICT]   (defaults 3 717 64)
# Env: MODEL (default: the engine benchmark's synthetic Llama-3.2-1B Q4_0), LLAMA_SERVER.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${1:-3}"
P="${2:-717}"
N="${3:-64}"
LLAMA_SERVER="${LLAMA_SERVER:-$(bash scripts/ensure-llama-server.sh)}"
BENCH="$(dirname "$LLAMA_SERVER")/llama-bench"
MODEL="${MODEL:-bench/out/synthetic-llama-3.2-1b-q4_0-seed1.gguf}"
[ -f "$MODEL" ] || { echo "no $MODEL: run bench/engine/run.sh once, or set MODEL" >&2; exit 1; }
rate() { OMP_WAIT_POLICY=PASSIVE "$BENCH" -m "$MODEL" -t 2 -r 1 -o jsonl "$@" 2>/dev/null | sed -n 's/.*"avg_ts": *\([0-9.]*\).*/\1/p' | tr '\n' ' '; }
echo "load before: $(uptime)"
for r in $(seq 1 "$ROUNDS"); do
  for fa in 1 0; do
    pp=$(rate -fa "$fa" -p "$P" -n 0)
    tg=$(rate -fa "$fa" -p 0 -n "$N" -d "0,$P")
    echo "round $r flash-attn $fa: pp$P $pp| tg$N at depth 0 and $P: $tg| load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
echo "load after: $(uptime)"
