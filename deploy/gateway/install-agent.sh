#!/usr/bin/env bash
# install-agent.sh: installs the EdgeSLM node agent on a gateway without Kubernetes, as a systemd
# service, with the same files, paths and settings as the k3s DaemonSet (deploy/k3s/base/node-agent.yaml):
#
#   /opt/edgeslm/agent/quarkus-app/        the agent (node-agent/target/quarkus-app)
#   /opt/edgeslm/agent/bin/edgeslm-agent-start  the unit's launcher (node-agent/src/main/deploy/)
#   /var/cache/edgeslm-agent/              the JVM's AOT cache (JDK 25+; emptied by every install)
#   /etc/edgeslm/agent.properties          configuration (written once; edit it afterwards)
#   /etc/edgeslm/tls/node.crt, node.key, ca.crt   the node's certificate from fleet-pki.sh (CN = node id)
#   /etc/edgeslm/trust/release.pub.pem     the release managers' public key(s)
#   /var/lib/edgeslm-agent/{journal,data}  journal and model store (owned by the service user)
#   /media/edgeslm-usb/                    where the technician's USB stick is mounted
#   /etc/systemd/system/edgeslm-agent.service  node-agent/src/main/deploy/edgeslm-agent.service
#   /etc/systemd/system/edgeslm-agent.service.d/10-gateway.conf  this installation's JDK and paths
#
# Usage (as root, from the repository or an unpacked release):
#   deploy/gateway/install-agent.sh --node-id gw-0042 --site plant-7 --model phi-mini \
#     --broker ssl://mqtt.plant-7.example:8883 --tls fleet-pki/nodes/gw-0042 \
#     --release-key release.pub.pem --app node-agent/target/quarkus-app
# --model is the model this node follows (the signed release's "model"; updates for other models
# are refused). --broker is the fleet's broker (mutual TLS). Options: --plant-broker URL (the
# plant's own broker, tcp://host:port or ssl://host:port: sensors, operators' questions and answers
# and reports go there, MQTT 5 or 3.1.1, while --broker keeps only the fleet's traffic; see
# docs/deployment.md, "Broker topologies"), --channel NAME (default stable), --java-home DIR (default: the newest Java 21+ under /usr/lib/jvm; with --root, both below DIR), --root DIR (install
# below DIR and skip user creation and systemctl: for tests and image builds), --no-start.
set -euo pipefail

die() { printf 'install-agent: %s\n' "$*" >&2; exit 1; }
say() { printf 'install-agent: %s\n' "$*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
unit_src=$repo/node-agent/src/main/deploy/edgeslm-agent.service
launcher_src=$repo/node-agent/src/main/deploy/edgeslm-agent-start

node_id='' site='' model='' channel=stable broker='' plant_broker='' tls='' key='' app='' java_home='' root='' start=true
while [ $# -gt 0 ]; do
  case "$1" in
    --node-id) node_id=${2:?}; shift 2 ;;
    --site) site=${2:?}; shift 2 ;;
    --model) model=${2:?}; shift 2 ;;
    --channel) channel=${2:?}; shift 2 ;;
    --broker) broker=${2:?}; shift 2 ;;
    --plant-broker) plant_broker=${2:?}; shift 2 ;;
    --tls) tls=${2:?}; shift 2 ;;
    --release-key) key=${2:?}; shift 2 ;;
    --app) app=${2:?}; shift 2 ;;
    --java-home) java_home=${2:?}; shift 2 ;;
    --root) root=${2:?}; shift 2 ;;
    --no-start) start=false; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/!p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf "install-agent: unknown argument '%s'; see install-agent.sh --help.\n" "$1" >&2; exit 2 ;;
  esac
done

id_re='^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'
[[ "$node_id" =~ $id_re ]] || die "--node-id '$node_id' must be 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit (it is an MQTT topic level and the certificate CN)"
[[ "$site" =~ $id_re ]] || die "--site '$site' must be 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit"
name_re='^[A-Za-z0-9._:-]{1,128}$'
[[ "$model" =~ $name_re ]] || die "--model '$model' must be the model's name as signed in its release.json (1-128 letters, digits, '.', '_', ':' or '-')"
[[ "$channel" =~ $name_re ]] || die "--channel '$channel' must be 1-128 letters, digits, '.', '_', ':' or '-'"
[[ "$broker" =~ ^ssl://[^/]+:[0-9]+$ ]] || die "--broker '$broker' must be ssl://host:port (the fleet broker only accepts mutual TLS)"
if [ -n "$plant_broker" ]; then
  [[ "$plant_broker" =~ ^(tcp|ssl)://[^/]+:[0-9]+$ ]] || die "--plant-broker '$plant_broker' must be tcp://host:port or ssl://host:port (the plant's broker)"
  [ "$plant_broker" != "$broker" ] || die "--plant-broker names the fleet broker ('$broker'): leave it out to carry everything on one connection, or name the plant's own broker"
fi
for f in node.crt node.key ca.crt; do
  [ -f "$tls/$f" ] || die "--tls '$tls' must hold node.crt, node.key and ca.crt (fleet-pki.sh node $node_id writes them); $f is missing"
done
cn=$(openssl x509 -in "$tls/node.crt" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
[ "$cn" = "$node_id" ] || die "the certificate in $tls is for '$cn', not '$node_id': the broker uses the CN as the node's identity"
[ -f "$key" ] || die "--release-key '$key' is not a file (the release managers' PEM public key)"
[ -f "$app/quarkus-run.jar" ] || die "--app '$app' has no quarkus-run.jar (build it: ./mvnw -B -pl node-agent -am package -DskipTests)"
[ -f "$unit_src" ] && [ -f "$launcher_src" ] || die "the unit file or launcher under node-agent/src/main/deploy is missing: run this script from the repository"

R=${root%/}

java_feature() { # $1 = a Java home directory; prints its feature version
  local v=''
  if [ -f "$1/release" ]; then # no JVM start, and works for a root of another system
    v=$(sed -n 's/^JAVA_VERSION="\{0,1\}\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1)
  fi
  if [ -z "$v" ] && [ -x "$1/bin/java" ]; then
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  printf '%s' "$v"
}
if [ -z "$java_home" ]; then
  best=0
  for j in "$R"/usr/lib/jvm/*/; do
    j=${j%/}
    [ -x "$j/bin/java" ] && [ ! -L "$j" ] || continue
    v=$(java_feature "$j")
    if [ -n "$v" ] && [ "$v" -ge 21 ] 2>/dev/null && [ "$v" -gt "$best" ]; then java_home=${j#"$R"}; best=$v; fi
  done
  [ -n "$java_home" ] || die "no Java 21+ under $R/usr/lib/jvm: install one (docs/deployment.md, \"Java\", has the line for Debian 12 and 13 and Ubuntu 24.04), or pass --java-home"
  say "Java $best at $java_home"
else
  java_home=${java_home%/}
  # Below --root when it is there (a gateway's image); else on this machine.
  jdir=$R$java_home
  [ -x "$jdir/bin/java" ] || jdir=$java_home
  [ -x "$jdir/bin/java" ] || die "--java-home '$java_home' has no bin/java${R:+ (neither below $R nor here)}"
  v=$(java_feature "$jdir")
  [ -n "$v" ] && [ "$v" -ge 21 ] 2>/dev/null \
    || die "--java-home '$java_home' is Java ${v:-of unknown version}; the agent needs Java 21 or newer"
fi

if [ -z "$R" ]; then
  [ "$(id -u)" -eq 0 ] || die "run as root (or give --root DIR to install below a directory)"
  if ! id edgeslm >/dev/null 2>&1; then
    # uid/gid 10001, as in the DaemonSet, when free: the gateway's files keep their owner if the
    # gateway later joins k3s.
    if getent passwd 10001 >/dev/null || getent group 10001 >/dev/null; then
      useradd --system --user-group --home-dir /var/lib/edgeslm-agent --shell /usr/sbin/nologin edgeslm
    else
      groupadd --system --gid 10001 edgeslm
      useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/edgeslm-agent --shell /usr/sbin/nologin edgeslm
    fi
  fi
  owner=edgeslm
else
  owner=$(id -un)
fi
group=$(id -gn "$owner")

install -d -m 0755 "$R/opt/edgeslm/agent"
rm -rf "$R/opt/edgeslm/agent/quarkus-app.new"
cp -a "$app" "$R/opt/edgeslm/agent/quarkus-app.new"
rm -rf "$R/opt/edgeslm/agent/quarkus-app"
mv "$R/opt/edgeslm/agent/quarkus-app.new" "$R/opt/edgeslm/agent/quarkus-app"
install -d -m 0755 "$R/opt/edgeslm/agent/bin"
install -m 0755 "$launcher_src" "$R/opt/edgeslm/agent/bin/edgeslm-agent-start"

install -d -m 0750 -o root -g "$group" "$R/etc/edgeslm" "$R/etc/edgeslm/tls" "$R/etc/edgeslm/trust" 2>/dev/null \
  || install -d -m 0750 "$R/etc/edgeslm" "$R/etc/edgeslm/tls" "$R/etc/edgeslm/trust"
install -m 0644 "$tls/node.crt" "$R/etc/edgeslm/tls/node.crt"
install -m 0644 "$tls/ca.crt" "$R/etc/edgeslm/tls/ca.crt"
install -m 0640 -g "$group" "$tls/node.key" "$R/etc/edgeslm/tls/node.key" 2>/dev/null \
  || install -m 0640 "$tls/node.key" "$R/etc/edgeslm/tls/node.key"
install -m 0644 "$key" "$R/etc/edgeslm/trust/release.pub.pem"
install -d -m 0750 -o "$owner" -g "$group" "$R/var/lib/edgeslm-agent" "$R/var/lib/edgeslm-agent/journal" \
  "$R/var/lib/edgeslm-agent/data" "$R/var/cache/edgeslm-agent"
# A new agent build makes the AOT cache of the old one useless (the launcher names caches after the
# JVM and the jars and would record a new one anyway): free the space now.
rm -f "$R"/var/cache/edgeslm-agent/agent*.aot "$R"/var/cache/edgeslm-agent/agent*.aot.lock \
  "$R"/var/cache/edgeslm-agent/agent*.aot.config
install -d -m 0755 "$R/media/edgeslm-usb"

# One broker carries everything; with a plant broker, the fleet's traffic (and the node's
# certificate) moves to the fleet connection.
broker_settings() {
  if [ -z "$plant_broker" ]; then
    cat <<ONE
edgeslm.agent.broker.url=$broker
edgeslm.agent.broker.tls.certificate=/etc/edgeslm/tls/node.crt
edgeslm.agent.broker.tls.private-key=/etc/edgeslm/tls/node.key
edgeslm.agent.broker.tls.ca=/etc/edgeslm/tls/ca.crt
ONE
  else
    cat <<TWO
# The plant's broker: sensors, operators' questions and answers, reports.
edgeslm.agent.broker.url=$plant_broker
TWO
    if [[ "$plant_broker" == ssl://* ]]; then
      cat <<TLS
# It speaks TLS: name the CA that signed its certificate (and a client certificate if it asks).
# edgeslm.agent.broker.tls.ca=/etc/edgeslm/tls/plant-ca.crt
TLS
    fi
    cat <<FLEET
# The fleet's broker: birth, status, health, journal, updates and commands, with the node's identity.
edgeslm.agent.fleet.broker.url=$broker
edgeslm.agent.fleet.broker.tls.certificate=/etc/edgeslm/tls/node.crt
edgeslm.agent.fleet.broker.tls.private-key=/etc/edgeslm/tls/node.key
edgeslm.agent.fleet.broker.tls.ca=/etc/edgeslm/tls/ca.crt
FLEET
  fi
}

props=$R/etc/edgeslm/agent.properties
if [ -f "$props" ]; then
  say "$props exists: kept (compare it with the template in docs/deployment.md)"
else
  cat >"$props" <<PROPS
# EdgeSLM node agent on $node_id (docs/node-agent.md, "Configuration"). The same settings as the
# k3s DaemonSet's environment (deploy/k3s/base/kustomization.yaml, edgeslm-agent-env).
edgeslm.agent.node-id=$node_id
edgeslm.agent.site=$site
edgeslm.agent.device-class=generic
edgeslm.agent.demo.simulator=off
edgeslm.agent.model.name=$model
edgeslm.agent.updates.channel=$channel
$(broker_settings)
edgeslm.agent.journal.dir=/var/lib/edgeslm-agent/journal
edgeslm.agent.updates.data-dir=/var/lib/edgeslm-agent/data
edgeslm.agent.updates.pinned-keys=/etc/edgeslm/trust/release.pub.pem
edgeslm.agent.updates.usb.watch-dir=/media/edgeslm-usb
# Sensors and the model, for example:
# edgeslm.agent.sensors."press3.oil_temp".topic=plant/line1/press3/oil_temp
# edgeslm.agent.sensors."press3.oil_temp".normal-min=40
# edgeslm.agent.sensors."press3.oil_temp".normal-max=80
PROPS
  chmod 0640 "$props"
  chgrp "$group" "$props" 2>/dev/null || true
fi

install -d -m 0755 "$R/etc/systemd/system/edgeslm-agent.service.d"
install -m 0644 "$unit_src" "$R/etc/systemd/system/edgeslm-agent.service"
cat >"$R/etc/systemd/system/edgeslm-agent.service.d/10-gateway.conf" <<CONF
# Written by deploy/gateway/install-agent.sh: this gateway's JDK, and the USB mount the agent
# writes its result file to (ProtectSystem=strict makes everything else read-only).
[Service]
Environment=JAVA_HOME=$java_home
ReadWritePaths=/media/edgeslm-usb
CONF

if [ -z "$R" ]; then
  systemctl daemon-reload
  if $start; then
    systemctl enable --now edgeslm-agent
    say "started; follow it with: journalctl -u edgeslm-agent -f"
  else
    systemctl enable edgeslm-agent
    say "installed and enabled; start it with: systemctl start edgeslm-agent"
  fi
else
  say "installed below $R (no user created, systemd not touched)"
fi
