#!/usr/bin/env bash
# Makes sure the real services and tools the test suite talks to exist and run on this machine:
# Mosquitto on 127.0.0.1:1883, PostgreSQL on 127.0.0.1:5432 (trust auth for local connections,
# database `test`), the OpenSSL and Mosquitto command-line clients, npm (AsyncAPI validation),
# libgomp (llama.cpp's natives), Chromium with its WebDriver (the controller's UI tests), and the
# pinned llama.cpp's llama-server (scripts/ensure-llama-server.sh builds it with cmake, g++, git and
# npm, once per release and CPU; later runs find it in the cache). Installs missing ones from Debian
# packages and starts what is stopped. Exits non-zero, naming what is missing, when it cannot
# provide one: tests never skip.
set -euo pipefail

log() { printf '[ensure-test-services] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"; fi
}

apt_updated=false
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get here; install them by hand"
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    apt_updated=true
  fi
  log "installing: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v pg_ctlcluster >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1' || missing+=(libgomp1)
# Building llama-server (scripts/ensure-llama-server.sh), only when its cache has no build yet.
if ! bash "$(dirname "$0")/ensure-llama-server.sh" --cached >/dev/null 2>&1; then
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  command -v c++ >/dev/null 2>&1 || missing+=(g++)
  command -v git >/dev/null 2>&1 || missing+=(git)
fi
[ -x /usr/bin/chromium ] || missing+=(chromium)          # fleet-controller web UI tests
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# deploy-tests' GatewayInstallIT builds a Debian 13 root with Java 21 and 25 (Debian 12 has no 21).
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
# deploy-tests render the deploy/k3s overlays with kubectl: any kubectl on PATH, else Debian's
# (package kubernetes-client, kubectl 1.20 with kustomize v2.0.3, which the manifests are written for).
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
command -v kubectl >/dev/null 2>&1 || die "kubectl is still not on PATH after installing kubernetes-client; install a kubectl by hand"
log "kubectl: $(command -v kubectl)"
export PATH="$PATH:/usr/sbin"

# --- Mosquitto on 127.0.0.1:1883 -----------------------------------------------------------------
if port_open 1883; then
  log "Mosquitto: listening on 127.0.0.1:1883"
else
  conf=/etc/mosquitto/mosquitto.conf
  if [ ! -f "$conf" ] || ! grep -q '^listener\|^port' "$conf" 2>/dev/null; then
    # Mosquitto 2 without a listener binds to loopback and allows anonymous clients there;
    # an explicit loopback listener says the same for readers of this script.
    conf=$(mktemp /tmp/edgeslm-mosquitto.XXXXXX.conf)
    printf 'listener 1883 127.0.0.1\nallow_anonymous true\n' >"$conf"
  fi
  log "Mosquitto: starting with $conf"
  as_root mosquitto -d -c "$conf" || die "mosquitto did not start (config $conf)"
  wait_port 1883 15 || die "Mosquitto started but 127.0.0.1:1883 does not accept connections"
fi

# --- PostgreSQL on 127.0.0.1:5432 ----------------------------------------------------------------
pg_ok() { psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; }
if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$version" ] || die "PostgreSQL is installed but has no cluster under /etc/postgresql"
    log "PostgreSQL: starting cluster $version/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || die "pg_ctlcluster $version main start failed"
  else
    die "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is missing"
  fi
  wait_port 5432 30 || die "PostgreSQL started but 127.0.0.1:5432 does not accept connections"
fi
if ! pg_ok; then
  # A freshly installed Debian cluster asks for passwords on TCP. The tests connect as `postgres`
  # over loopback with trust, as our CI machines are set up; only do this on a disposable machine.
  if [ "${CI:-}" = "true" ] && [ -n "${version:-$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)}" ]; then
    version=${version:-$(ls /etc/postgresql | sort -V | tail -n 1)}
    hba=/etc/postgresql/$version/main/pg_hba.conf
    log "PostgreSQL: enabling trust for loopback TCP in $hba (CI machine)"
    as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    sleep 1
  fi
  pg_ok || die "cannot connect to PostgreSQL as postgres@127.0.0.1:5432 without a password; allow trust for loopback in pg_hba.conf"
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc "select 1 from pg_database where datname='test'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test' || die "could not create database test"
fi
log "PostgreSQL: ready on 127.0.0.1:5432"
log "tools: $(mosquitto -h 2>/dev/null | head -n 1), $(openssl version), npm $(npm --version)"

# --- llama-server of the pinned llama.cpp (engine/llama.cpp.properties) --------------------------
# Tests find it at ${XDG_CACHE_HOME:-$HOME/.cache}/edgeslm/llama.cpp/current/bin/llama-server.
llama_server=$(bash "$(dirname "$0")/ensure-llama-server.sh") || die "could not provide llama-server (see the messages above)"
log "llama-server: $llama_server"
