#!/usr/bin/env bash
# Makes sure a llama-server (and llama-bench) of the pinned llama.cpp release exists on this
# machine, building it when needed, and prints the llama-server path as its last stdout line.
#
#   scripts/ensure-llama-server.sh                 find in the cache or build (about 6-15 min on 2 cores)
#   scripts/ensure-llama-server.sh --adopt DIR     take the binaries of a finished CMake build in DIR
#                                                  (same source commit and flags, checked) into the cache
#   scripts/ensure-llama-server.sh --print-key     print the cache key and exit
#   scripts/ensure-llama-server.sh --cached        exit 0 (printing the path) if the cache has it, else 1
#
# Build flags (before any of the above): the pin's cmake.flags by default (GGML_NATIVE: for this CPU),
#   --portable               the pin's cmake.flags.portable instead: every CPU variant as a loadable
#                            backend (GGML_NATIVE=OFF, GGML_BACKEND_DL, GGML_CPU_ALL_VARIANTS), for an
#                            image or package that runs on other machines of the architecture
#   --cmake-flags "FLAGS"    these CMake flags instead (also: EDGESLM_LLAMA_CMAKE_FLAGS)
# A build with shared libraries installs them next to the binaries (found there through $ORIGIN).
#
# The release is pinned in engine/llama.cpp.properties: the npm package node-llama-cpp carries that
# release's full source as llama/gitRelease.bundle. The script `npm pack`s the package, checks its
# sha256, clones the bundle, checks the commit, builds the targets with the pinned CMake flags and
# installs the binaries under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/edgeslm/llama.cpp/<tag>-<hash of flags and CPU>/bin/
# (GGML_NATIVE compiles for the building CPU, so the CPU is part of the key), then points
#   ${XDG_CACHE_HOME:-$HOME/.cache}/edgeslm/llama.cpp/current
# at it; tests and benchmarks default to current/bin/llama-server (EDGESLM_LLAMA_SERVER overrides).
# A later run with the same key takes a second. Needs cmake, a C++17 compiler, git and npm
# (scripts/ensure-test-services.sh installs Debian's). Fails loudly, never skips: exit 1 with the
# step that failed and its log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIN="$ROOT/engine/llama.cpp.properties"
log() { printf '[ensure-llama-server] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

prop() { # key -> value from the pin file
  local v
  v=$(sed -n "s/^$1=//p" "$PIN" | head -n 1)
  [ -n "$v" ] || die "$PIN has no '$1='"
  printf '%s' "$v"
}

[ -f "$PIN" ] || die "missing $PIN"
PKG=$(prop npm.package)
VERSION=$(prop npm.version)
SHA256=$(prop npm.sha256)
TAG=$(prop llama.cpp.tag)
COMMIT=$(prop llama.cpp.commit)
TARGETS=$(prop cmake.targets)

mode=ensure
adopt_dir=""
FLAGS="${EDGESLM_LLAMA_CMAKE_FLAGS:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --portable) FLAGS=$(prop cmake.flags.portable) ;;
    --cmake-flags) [ $# -ge 2 ] && [ -n "$2" ] || die "--cmake-flags needs the flags as one argument, e.g. --cmake-flags \"-DGGML_NATIVE=OFF\""; FLAGS="$2"; shift ;;
    --print-key) mode=print-key ;;
    --cached) mode=cached ;;
    --adopt) [ $# -ge 2 ] || die "--adopt needs a CMake build directory"; mode=adopt; adopt_dir="$2"; shift ;;
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
if [ -z "$FLAGS" ]; then
  FLAGS=$(prop cmake.flags)
  # GGML_NATIVE on a CPU with AMX (Intel Sapphire Rapids and later) compiles ggml's AMX matrix
  # kernels in, because -march=native defines __AMX_INT8__. In this release they crash the server
  # (SIGSEGV in ggml_backend_amx_mul_mat on the first graph, seen on a 2-core Xeon with amx_int8).
  # The default build leaves them out and keeps the AVX-512/VNNI kernels; pass --cmake-flags to opt in.
  if [ "$(uname -m)" = x86_64 ] && grep -q -m1 -w amx_int8 /proc/cpuinfo 2>/dev/null; then
    case " $FLAGS " in
      *" -DGGML_NATIVE=ON "*)
        FLAGS="$FLAGS -DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8"
        log "this CPU has AMX: building without ggml's AMX kernels (they crash in $TAG; see the comment above)"
        ;;
    esac
  fi
fi
for f in $FLAGS; do
  case "$f" in
    -D?*=*) ;;
    *) die "CMake flag '$f' is not of the form -DNAME=VALUE; pass the flags as one argument of -D words" ;;
  esac
done

cpu_id() {
  # The CPU as GGML_NATIVE sees it: architecture, model and feature flags.
  {
    uname -m
    grep -m1 -E '^(model name|CPU part|Model)' /proc/cpuinfo 2>/dev/null || true
    grep -m1 -E '^(flags|Features)' /proc/cpuinfo 2>/dev/null || true
  } | sha256sum | cut -c1-12
}
# A native build is for this CPU only, so the CPU is part of the key; a build with GGML_NATIVE=OFF
# runs on any CPU of the architecture.
case " $FLAGS " in
  *" -DGGML_NATIVE=OFF "*) cpu="$(uname -m)-any" ;;
  *) cpu="$(cpu_id)" ;;
esac
KEY="$TAG-$(printf '%s|%s|%s|%s' "$COMMIT" "$FLAGS" "$TARGETS" "$cpu" | sha256sum | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/edgeslm/llama.cpp"
DEST="$CACHE/$KEY"

[ "$mode" = print-key ] && { echo "$KEY"; exit 0; }

works() { # dir -> 0 when its llama-server starts and prints its version
  [ -x "$1/bin/llama-server" ] && [ -x "$1/bin/llama-bench" ] && "$1/bin/llama-server" --version >/dev/null 2>&1
}

finish() {
  ln -sfn "$KEY" "$CACHE/current.tmp" && mv -Tf "$CACHE/current.tmp" "$CACHE/current"
  log "llama.cpp $TAG ($COMMIT) in $DEST"
  echo "$DEST/bin/llama-server"
}

if [ "$mode" = cached ]; then
  works "$DEST" || exit 1
  echo "$DEST/bin/llama-server"; exit 0
fi
mkdir -p "$CACHE"
if works "$DEST"; then finish; exit 0; fi

# One build per key at a time (parallel CI jobs, two shells): the second waits for the first.
exec 9>"$CACHE/.lock-$KEY"
flock 9
if works "$DEST"; then finish; exit 0; fi

install_from() { # build dir
  local stage="$DEST.partial.$$"
  rm -rf "$stage"; mkdir -p "$stage/bin"
  for t in $TARGETS; do
    [ -x "$1/bin/$t" ] || die "the build in $1 has no bin/$t"
    cp "$1/bin/$t" "$stage/bin/$t"
  done
  # Shared builds: libllama, libggml* and, with GGML_BACKEND_DL, one libggml-cpu-<variant>.so per
  # CPU variant, which ggml loads from the binary's directory.
  for lib in "$1"/bin/*.so "$1"/bin/*.so.*; do
    [ -e "$lib" ] && cp -P "$lib" "$stage/bin/"
  done
  {
    echo "npm.package=$PKG@$VERSION"
    echo "llama.cpp.tag=$TAG"
    echo "llama.cpp.commit=$COMMIT"
    echo "cmake.flags=$FLAGS"
    echo "compiler=$(c++ --version 2>/dev/null | head -n 1)"
    echo "machine=$(uname -m)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$stage/build-info.properties"
  works "$stage" || die "the built llama-server does not run: $("$stage/bin/llama-server" --version 2>&1 | tail -n 3)"
  rm -rf "$DEST"; mv "$stage" "$DEST"
}

if [ "$mode" = adopt ]; then
  cache_file="$adopt_dir/CMakeCache.txt"
  [ -f "$cache_file" ] || die "$adopt_dir is not a CMake build directory (no CMakeCache.txt)"
  src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache_file")
  got=$(git -C "$src" rev-parse HEAD 2>/dev/null) || die "cannot read the source commit of $src"
  [ "$got" = "$COMMIT" ] || die "$src is at $got, the pin says $COMMIT"
  for f in $FLAGS; do
    name=${f#-D}; name=${name%%=*}; want=${f#*=}
    have=$(sed -n "s/^$name:[A-Z]*=//p" "$cache_file" | head -n 1)
    [ "$have" = "$want" ] || die "$adopt_dir was configured with $name='$have', the pin says '$want'"
  done
  log "adopting the build in $adopt_dir (source $src at $got)"
  install_from "$adopt_dir"
  finish
  exit 0
fi

for tool in cmake git npm tar sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing; scripts/ensure-test-services.sh installs it (Debian: cmake g++ git npm)"
done
command -v c++ >/dev/null 2>&1 || die "no C++ compiler (c++); install g++"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/edgeslm-llama-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building llama.cpp $TAG for key $KEY in $WORK (log: $WORK/build.log)"

log "npm pack $PKG@$VERSION"
(cd "$WORK" && npm pack --silent "$PKG@$VERSION" >"$WORK/npm.log" 2>&1) || die "npm pack $PKG@$VERSION failed: $(tail -n 5 "$WORK/npm.log")"
tarball=$(ls "$WORK"/*.tgz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || die "npm pack wrote no tarball"
have=$(sha256sum "$tarball" | cut -d' ' -f1)
[ "$have" = "$SHA256" ] || die "$PKG@$VERSION has sha256 $have, the pin says $SHA256; refusing to build from it"
tar -xzf "$tarball" -C "$WORK" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json \
  || die "the package has no llama/gitRelease.bundle"
grep -q "\"tag\": *\"$TAG\"" "$WORK/package/llama/llama.cpp.info.json" \
  || die "the package carries $(cat "$WORK/package/llama/llama.cpp.info.json"), the pin says tag $TAG"

log "git clone the bundle"
git clone -q "$WORK/package/llama/gitRelease.bundle" "$WORK/llama.cpp" >"$WORK/git.log" 2>&1 \
  || die "git clone of the bundle failed: $(tail -n 5 "$WORK/git.log")"
got=$(git -C "$WORK/llama.cpp" rev-parse HEAD)
[ "$got" = "$COMMIT" ] || die "the bundle's commit is $got, the pin says $COMMIT"

log "cmake configure: $FLAGS"
# shellcheck disable=SC2086 # the flags are a word list on purpose
cmake -S "$WORK/llama.cpp" -B "$WORK/build" $FLAGS >"$WORK/build.log" 2>&1 \
  || die "cmake configure failed: $(tail -n 20 "$WORK/build.log")"
log "cmake build: $TARGETS (-j $(nproc))"
# shellcheck disable=SC2086
cmake --build "$WORK/build" --target $TARGETS -j "$(nproc)" >>"$WORK/build.log" 2>&1 \
  || die "cmake build failed: $(tail -n 30 "$WORK/build.log")"
install_from "$WORK/build"
finish
