#!/usr/bin/env bash
# Verification speed of model-signing against `openssl dgst -sha256` over the same files, in the
# same run, on a 2 GiB synthetic bundle. Prints MB/s for both, the ratio (ours / openssl, higher is
# better, target >= 0.95) and the peak heap of our verifier, which runs with -Xmx64m.
#
# Usage: bench/signing/run.sh [ROUNDS]          (from the repository root; default 3 rounds)
# Env:   BENCH_DIR (default: a new directory under ${TMPDIR:-/tmp}), KEEP=1 to keep the bundles,
#        JAVA_HOME (JDK 21+; default: found as run-agent finds one),
#        SIZE_MIB (bundle size, default 2048; a multiple of 4; bench/run --quick uses a small one).
#
# Two bundle shapes, both SIZE_MIB (2 GiB) of random bytes plus a release.json:
#   single  one 2 GiB model.gguf  (no parallelism possible: SHA-256 is sequential per file)
#   shards  four 512 MiB files    (our verifier hashes files in parallel, one thread per core)
# The last lines are machine-readable results for bench/run (docs/benchmarks.md, "Benchmark suite"):
#   RESULT name=... measured=... baseline=... unit=... ratio=... target=... met=... desc=...
# Files are read once before timing so both tools hash from the page cache; each round runs
# openssl then ours. Reported: the best round of each tool (least disturbed by other load) and the
# median of the per-round ratios (each ratio taken from neighbouring measurements).
# Three views of our side: "warm JVM" is the third of three verifications in one JVM
# (bench/signing/WarmVerify.java: what a long-running node agent pays once its JIT has compiled
# the hashing path); "fresh JVM, in-process" is the time the CLI measures around
# BundleVerifier.verify in a new JVM (JIT warm-up included); "CLI" adds JVM start-up.
set -euo pipefail

ROUNDS="${1:-3}"
SIZE_MIB="${SIZE_MIB:-2048}"
if ! [[ "$SIZE_MIB" =~ ^[0-9]+$ ]] || (( SIZE_MIB < 4 || SIZE_MIB % 4 != 0 )); then
  echo "SIZE_MIB must be a multiple of 4 MiB, at least 4; got '$SIZE_MIB'." >&2; exit 2
fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ -z "${JAVA_HOME:-}" ]]; then
  EDGESLM_JAVA_NEEDS=java . "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/java-home.sh"
fi
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JAR="$ROOT/model-signing/target/model-signing.jar"
command -v openssl >/dev/null || { echo "openssl is required: apt-get install -y openssl" >&2; exit 2; }

if [[ ! -f "$JAR" ]]; then
  echo "building $JAR" >&2
  (cd "$ROOT" && ./mvnw -B -q -pl model-signing package -DskipTests)
fi

WORK="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/signing-bench.XXXXXX")}"
mkdir -p "$WORK"
cleanup() { [[ "${KEEP:-0}" == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

cli() { "$JAVA" -jar "$JAR" "$@"; }
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }
now() { date +%s.%N; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "sha_ni=$(grep -qw sha_ni /proc/cpuinfo && echo yes || echo no), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java: $("$JAVA" -version 2>&1 | head -1), UseSHA=$("$JAVA" -XX:+PrintFlagsFinal -version 2>/dev/null | awk '$2=="UseSHA"{print $4}')"
echo "openssl: $(openssl version)"

cd "$WORK"
[[ -f k.pem ]] || cli keygen --private-key k.pem --public-key k.pub >/dev/null

make_bundle() { # name, number of files, MiB per file
  local dir="$1" n="$2" mib="$3"
  if [[ ! -f "$dir/model.sig" ]]; then
    mkdir -p "$dir"
    for i in $(seq 1 "$n"); do
      local f="$dir/model.gguf"; [[ "$n" -gt 1 ]] && f="$dir/model-0000$i-of-0000$n.gguf"
      head -c $((mib * 1024 * 1024)) /dev/urandom > "$f"
    done
    local first; first="$(cd "$dir" && ls *.gguf | head -1)"
    cli release init --model bench --version 1 --model-file "$first" --out "$dir/release.json" >/dev/null
    local t0 t1; t0=$(now)
    cli sign --private-key k.pem "$dir" >/dev/null 2>&1
    t1=$(now)
    echo "signed $dir in $(calc "$t1 - $t0") s"
  fi
}

peak_heap_mib() { # from a G1 log: the largest heap occupancy before a GC, or at exit
  awk '
    /Pause/ && match($0, /[0-9]+M->[0-9]+M/) { split(substr($0, RSTART, RLENGTH), a, "M->"); if (a[1] + 0 > m) m = a[1] + 0 }
    /garbage-first heap/ && match($0, /used [0-9]+K/) { u = substr($0, RSTART + 5, RLENGTH - 6) / 1024; if (u > m) m = u }
    END { printf "%.0f", m }' "$1"
}

bench_shape() {
  local dir="$1"
  local files=("$dir"/*.gguf "$dir/release.json")
  local bytes; bytes=$(cat "${files[@]}" | wc -c)
  cat "${files[@]}" > /dev/null   # page cache
  local best_o=999999 best_j=999999 best_v=999999 best_w=999999 peak=0
  local rw=() rv=() rj=()
  for r in $(seq 1 "$ROUNDS"); do
    local t0 t1 t2 t3 out
    t0=$(now); openssl dgst -sha256 "${files[@]}" > /dev/null; t1=$(now)
    t2=$(now)
    out=$("$JAVA" -Xmx64m -Xlog:gc,gc+heap+exit:file="$WORK/gc.log" -jar "$JAR" \
      verify --public-key k.pub "$dir" 2>/dev/null)
    t3=$(now)
    local o j v p
    o=$(calc "$t1 - $t0"); j=$(calc "$t3 - $t2"); p=$(peak_heap_mib "$WORK/gc.log")
    v=$(sed -n 's/.* in \([0-9.]*\) s$/\1/p' <<< "$out")
    local w; w=$("$JAVA" -Xmx64m -cp "$JAR" "$ROOT/bench/signing/WarmVerify.java" "$dir" k.pub 3 | awk 'END { print $3 }')
    printf '  round %d: openssl %.2f s; ours %.2f s end to end, %.2f s inside the JVM, %.2f s warm (peak heap %s MiB)\n' \
      "$r" "$o" "$j" "$v" "$w" "$p"
    [[ $(calc "$o < $best_o") == 1.0000 ]] && best_o=$o
    [[ $(calc "$j < $best_j") == 1.0000 ]] && best_j=$j
    [[ $(calc "$v < $best_v") == 1.0000 ]] && best_v=$v
    [[ $(calc "$w < $best_w") == 1.0000 ]] && best_w=$w
    (( p > peak )) && peak=$p
    rw+=("$(calc "$o / $w")"); rv+=("$(calc "$o / $v")"); rj+=("$(calc "$o / $j")")
  done
  local mb; mb=$(calc "$bytes / 1000000")
  printf 'RESULT %-6s %d files %.0f MB: openssl dgst -sha256 %.0f MB/s | model-signing verify warm JVM %.0f MB/s, ratio %.2fx | fresh JVM, in-process %.0f MB/s, ratio %.2fx | CLI incl. JVM start %.0f MB/s, ratio %.2fx | peak heap %s MiB (-Xmx64m)\n' \
    "$(basename "$dir")" "${#files[@]}" "$mb" "$(calc "$mb / $best_o")" \
    "$(calc "$mb / $best_w")" "$(calc "$best_o / $best_w")" \
    "$(calc "$mb / $best_v")" "$(calc "$best_o / $best_v")" \
    "$(calc "$mb / $best_j")" "$(calc "$best_o / $best_j")" "$peak"
  printf 'MEDIAN %-6s per-round ratio (openssl time / ours): warm JVM %.2fx, fresh JVM in-process %.2fx, CLI %.2fx\n' \
    "$(basename "$dir")" "$(median "${rw[@]}")" "$(median "${rv[@]}")" "$(median "${rj[@]}")"
  # Machine-readable lines for bench/run, from the same best-of-rounds figures as above.
  local shape; shape=$(basename "$dir")
  local what="2 GiB one file"; [[ "$shape" == shards ]] && what="2 GiB in 4 files"
  (( SIZE_MIB != 2048 )) && what="${what/2 GiB/$SIZE_MIB MiB}"
  result "signing.$shape.warm" "$(calc "$mb / $best_w")" "$(calc "$mb / $best_o")" MB/s \
    "$(calc "$best_o / $best_w")" \
    "model-signing verify, $what, warm JVM (3rd verify in one JVM) vs openssl dgst -sha256"
  result "signing.$shape.cli" "$(calc "$mb / $best_j")" "$(calc "$mb / $best_o")" MB/s \
    "$(calc "$best_o / $best_j")" \
    "model-signing verify, $what, whole CLI process (java -Xmx64m -jar) vs openssl dgst -sha256"
  PEAK_ALL=$(( peak > PEAK_ALL ? peak : PEAK_ALL ))
}

PEAK_ALL=0
result() { # name measured baseline unit ratio desc; target for the verify speed: >= 0.95x
  local met; met=$(awk "BEGIN { print ($5 >= 0.95) ? \"yes\" : \"no\" }")
  printf 'RESULT name=%s measured=%.0f baseline=%.0f unit=%s ratio=%.2f target=>=0.95x met=%s desc=%s\n' \
    "$1" "$2" "$3" "$4" "$5" "$met" "$6"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

make_bundle single 1 "$SIZE_MIB"
make_bundle shards 4 $((SIZE_MIB / 4))
echo "model-signing verify vs openssl dgst -sha256 over the same files, best of $ROUNDS rounds:"
bench_shape "$WORK/single"
bench_shape "$WORK/shards"
printf 'RESULT name=signing.heap measured=%d baseline=64 unit=MiB ratio=%.2f target=<64MiB met=%s desc=%s\n' \
  "$PEAK_ALL" "$(calc "$PEAK_ALL / 64")" "$( (( PEAK_ALL < 64 )) && echo yes || echo no)" \
  "model-signing verify CLI peak heap (G1 log) against its -Xmx64m limit"
