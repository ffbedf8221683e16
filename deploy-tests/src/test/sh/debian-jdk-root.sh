#!/usr/bin/env bash
# Prints the directory of a Debian 13 (trixie) root file system that holds Debian's own Java 21 and
# Java 25 runtimes (openjdk-21-jre-headless, openjdk-25-jre-headless), making it the first time with
# debootstrap from Debian's package archive and keeping it in a cache for later runs. GatewayInstallIT
# installs the agent into a copy-on-write overlay of it and starts the systemd unit's command line
# there on both JDKs. Debian 12, this project's build machines, packages no Java 21: Debian 13 is
# the nearest system that ships both as ordinary packages. Needs root (debootstrap, chroot) and the
# debootstrap package (scripts/ensure-test-services.sh installs it). About 750 MB, 3 minutes once.
set -euo pipefail

die() { printf 'debian-jdk-root: %s\n' "$*" >&2; exit 1; }

cache=${EDGESLM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeslm}
root=$cache/debian13-jdk21-jdk25
complete() { [ -f "$root/.edgeslm-complete" ]; }

if complete; then echo "$root"; exit 0; fi
[ "$(id -u)" -eq 0 ] || die "needs root to build $root (debootstrap); run the tests as root, as CI does"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] \
  || die "debootstrap is not installed (apt-get install debootstrap, or run scripts/ensure-test-services.sh)"
export PATH="$PATH:/usr/sbin:/sbin"
mkdir -p "$cache"
exec 9>"$cache/debian13-jdk21-jdk25.lock"
flock 9 # another build's test may be making it right now
if complete; then echo "$root"; exit 0; fi
work=$(mktemp -d "$cache/debian13-jdk21-jdk25.XXXXXX")
log=$work.log
printf 'debian-jdk-root: making %s with debootstrap (log: %s)\n' "$root" "$log" >&2
if ! debootstrap --variant=minbase --include=openjdk-21-jre-headless,openjdk-25-jre-headless \
  trixie "$work" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  rm -rf "$work"
  die "debootstrap failed; its log is $log"
fi
for v in 21 25; do
  ls -d "$work/usr/lib/jvm/"java-$v-openjdk-*/bin/java >/dev/null 2>&1 || die "the new root has no Java $v (see $log)"
done
# What an installed system has and debootstrap leaves out.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$work/etc/hosts"
touch "$work/.edgeslm-complete"
rm -rf "$root"
mv "$work" "$root"
rm -f "$log"
echo "$root"
