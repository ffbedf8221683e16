#!/usr/bin/env bash
# fleet-pki.sh: the fleet's private certificate authority, with OpenSSL only.
#
# Creates and manages, in one directory (default ./fleet-pki, never committed):
#   ca/ca.key, ca/ca.crt          the fleet CA (ECDSA P-256). Keep ca.key offline.
#   ca/crl.pem                    the certificate revocation list the broker checks
#   broker/tls.crt, tls.key       the MQTT broker's server certificate (DNS/IP SANs)
#   nodes/<id>/node.crt, node.key, ca.crt
#                                 one client certificate per gateway, CN = node id
#   controller/controller-<n>.p12, truststore.p12, password
#                                 one client identity per fleet-controller replica (PKCS#12, for
#                                 the JVM), CN = controller-<n>
#   secrets/*.yaml                Kubernetes Secrets (kubectl create secret --dry-run=client)
#
# Commands (see docs/deployment.md, "Certificates"):
#   init                         create the CA and an empty CRL
#   broker  --dns NAME... [--ip ADDR...]
#   node    ID...                issue node certificates (refuses reserved or invalid ids)
#   controller [--replicas N]    issue controller-0 .. controller-(N-1) (default 2)
#   revoke  CN                   revoke a node's or controller's certificate, rewrite the CRL
#   crl                          re-issue the CRL (do it before it expires: --crl-days)
#   secrets [--namespace NS]     write secrets/*.yaml for the broker and the controller
#   list                         show issued certificates and their state
#
# Options before the command: --dir DIR (or FLEET_PKI_DIR), --days N (leaf validity, default 825),
# --ca-days N (default 3650), --crl-days N (default 180).
set -euo pipefail

die() { printf 'fleet-pki: %s\n' "$*" >&2; exit 1; }
say() { printf 'fleet-pki: %s\n' "$*" >&2; }

DIR=${FLEET_PKI_DIR:-./fleet-pki}
DAYS=825
CA_DAYS=3650
CRL_DAYS=180
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) DIR=${2:?--dir needs a directory}; shift 2 ;;
    --days) DAYS=${2:?--days needs a number}; shift 2 ;;
    --ca-days) CA_DAYS=${2:?--ca-days needs a number}; shift 2 ;;
    --crl-days) CRL_DAYS=${2:?--crl-days needs a number}; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || die "no command; run with --help for the list"
CMD=$1; shift
command -v openssl >/dev/null 2>&1 || die "openssl is not installed: apt-get install openssl"
for n in "$DAYS" "$CA_DAYS" "$CRL_DAYS"; do
  [[ "$n" =~ ^[1-9][0-9]{0,4}$ ]] || die "validity '$n' must be a number of days (1-99999)"
done

# A node id is one MQTT topic level of edge/v1/{site}/{node}/... (docs/asyncapi.yaml) and the
# certificate CN the broker uses as user name: 1-64 of A-Z a-z 0-9 _ . -, starting with a letter
# or digit. controller-* is reserved for controller replicas (their ACL grants more).
ID_RE='^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'

CA=$DIR/ca
umask 077

openssl_conf() { # writes the openssl ca configuration used for issuing and revoking
  cat >"$CA/openssl.cnf" <<CNF
[ ca ]
default_ca = fleet
[ fleet ]
dir              = $CA
database         = \$dir/index.txt
new_certs_dir    = \$dir/issued
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = \$dir/ca.crt
private_key      = \$dir/ca.key
default_md       = sha256
default_crl_days = $CRL_DAYS
policy           = only_cn
unique_subject   = no
copy_extensions  = none
[ only_cn ]
commonName = supplied
[ client ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ crl_ext ]
authorityKeyIdentifier = keyid
CNF
}

require_ca() {
  [ -f "$CA/ca.key" ] && [ -f "$CA/ca.crt" ] || die "no CA in $CA: run '$0 --dir $DIR init' first"
  openssl_conf
}

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

gen_crl() {
  openssl ca -batch -config "$CA/openssl.cnf" -gencrl -crlexts crl_ext -out "$CA/crl.pem" 2>/dev/null \
    || die "could not write the CRL $CA/crl.pem"
}

valid_serials() { awk -F'\t' -v cn="/CN=$1" '$1=="V" && $6==cn {print $4}' "$CA/index.txt"; }

refuse_duplicate() {
  [ -z "$(valid_serials "$1")" ] \
    || die "a valid certificate for '$1' exists already; revoke it first ('$0 revoke $1') to re-issue"
}

# sign CN EXTFILE-SECTION-FILE OUTCERT CSR
sign() {
  local cn=$1 ext=$2 extsect=$3 csr=$4 out=$5
  refuse_duplicate "$cn"
  openssl ca -batch -config "$CA/openssl.cnf" -days "$DAYS" -notext -extfile "$ext" \
    -extensions "$extsect" -in "$csr" -out "$out" 2>"$out.log" \
    || { cat "$out.log" >&2; die "openssl ca refused to sign '$cn'"; }
  rm -f "$out.log"
}

cmd_init() {
  [ ! -e "$CA/ca.key" ] || die "a CA exists already in $CA; refusing to overwrite it"
  mkdir -p "$CA/issued"
  : >"$CA/index.txt"
  printf 'unique_subject = no\n' >"$CA/index.txt.attr"
  openssl rand -hex 16 >"$CA/serial"
  printf '1000\n' >"$CA/crlnumber"
  new_key "$CA/ca.key"
  openssl req -new -x509 -sha256 -key "$CA/ca.key" -days "$CA_DAYS" -subj "/CN=EdgeSLM fleet CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$CA/ca.crt"
  openssl_conf
  gen_crl
  chmod 0444 "$CA/ca.crt" "$CA/crl.pem"
  say "CA created: $CA/ca.crt (private key $CA/ca.key: keep it offline, back it up)"
}

cmd_broker() {
  require_ca
  local sans=() dns=() ip=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --dns) dns+=("${2:?--dns needs a name}"); shift 2 ;;
      --ip) ip+=("${2:?--ip needs an address}"); shift 2 ;;
      *) die "broker: unknown argument '$1' (use --dns NAME and --ip ADDRESS)" ;;
    esac
  done
  [ ${#dns[@]} -gt 0 ] || die "broker: give at least one --dns name the nodes connect to, e.g. --dns mqtt.plant-7.example --dns mosquitto.edgeslm.svc"
  local n
  for n in "${dns[@]}"; do sans+=("DNS:$n"); done
  for n in "${ip[@]}"; do sans+=("IP:$n"); done
  local san; san=$(IFS=,; echo "${sans[*]}")
  mkdir -p "$DIR/broker"
  cat >"$DIR/broker/ext.cnf" <<EXT
[ server ]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = $san
EXT
  new_key "$DIR/broker/tls.key"
  openssl req -new -key "$DIR/broker/tls.key" -subj "/CN=${dns[0]}" -out "$DIR/broker/tls.csr"
  # Re-issuing the broker certificate (new names, renewal) is allowed: revoke the old one first.
  local old; old=$(valid_serials "${dns[0]}")
  if [ -n "$old" ]; then
    openssl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/issued/$old.pem" -crl_reason superseded 2>/dev/null
    gen_crl
  fi
  sign "${dns[0]}" "$DIR/broker/ext.cnf" server "$DIR/broker/tls.csr" "$DIR/broker/tls.crt"
  rm -f "$DIR/broker/tls.csr" "$DIR/broker/ext.cnf"
  cp "$CA/ca.crt" "$DIR/broker/ca.crt"
  say "broker certificate: $DIR/broker/tls.crt for $san"
}

cmd_node() {
  require_ca
  [ $# -gt 0 ] || die "node: give one or more node ids (the gateway's Kubernetes node name or its edgeslm.agent.node-id)"
  local id
  for id in "$@"; do
    [[ "$id" =~ $ID_RE ]] || die "node id '$id' is not a valid topic level: use 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit"
    [[ "$id" != controller-* ]] || die "node id '$id' starts with 'controller-', which is reserved for fleet-controller replicas; choose another id"
    refuse_duplicate "$id"
  done
  printf '[ client ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$CA/client.cnf"
  for id in "$@"; do
    local d=$DIR/nodes/$id
    mkdir -p "$d"
    new_key "$d/node.key"
    openssl req -new -key "$d/node.key" -subj "/CN=$id" -out "$d/node.csr"
    sign "$id" "$CA/client.cnf" client "$d/node.csr" "$d/node.crt"
    rm -f "$d/node.csr"
    cp "$CA/ca.crt" "$d/ca.crt"
    say "node '$id': $d/node.crt, node.key, ca.crt (copy them to the gateway's /etc/edgeslm/tls/)"
  done
}

cmd_controller() {
  require_ca
  local replicas=2
  while [ $# -gt 0 ]; do
    case "$1" in
      --replicas) replicas=${2:?--replicas needs a number}; shift 2 ;;
      *) die "controller: unknown argument '$1' (use --replicas N)" ;;
    esac
  done
  [[ "$replicas" =~ ^[1-9][0-9]?$ ]] || die "controller: --replicas '$replicas' must be 1-99"
  local d=$DIR/controller
  mkdir -p "$d"
  [ -f "$d/password" ] || openssl rand -hex 24 >"$d/password"
  local pw; pw=$(cat "$d/password")
  printf '[ client ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$CA/client.cnf"
  local i
  for ((i = 0; i < replicas; i++)); do
    local cn=controller-$i
    if [ -f "$d/$cn.p12" ]; then say "$cn: exists, kept"; continue; fi
    new_key "$d/$cn.key"
    openssl req -new -key "$d/$cn.key" -subj "/CN=$cn" -out "$d/$cn.csr"
    sign "$cn" "$CA/client.cnf" client "$d/$cn.csr" "$d/$cn.crt"
    openssl pkcs12 -export -name "$cn" -inkey "$d/$cn.key" -in "$d/$cn.crt" -certfile "$CA/ca.crt" \
      -passout "pass:$pw" -out "$d/$cn.p12"
    rm -f "$d/$cn.csr" "$d/$cn.key"
    say "controller identity '$cn': $d/$cn.p12"
  done
  # A Java trust store holding only the fleet CA. The JDK trusts a PKCS#12 certificate entry only
  # with its own "trusted key usage" attribute: OpenSSL writes it from 3.2 on (-jdktrust); with an
  # older OpenSSL, keytool from any JDK/JRE writes the store.
  rm -f "$d/truststore.p12"
  if ! openssl pkcs12 -export -nokeys -in "$CA/ca.crt" -name fleet-ca -jdktrust anyExtendedKeyUsage \
    -passout "pass:$pw" -out "$d/truststore.p12" 2>/dev/null; then
    rm -f "$d/truststore.p12"
    local keytool; keytool=$(command -v keytool || true)
    [ -n "$keytool" ] || { [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/keytool" ] && keytool=$JAVA_HOME/bin/keytool; }
    [ -n "$keytool" ] || die "controller: the Java trust store needs OpenSSL 3.2+ or keytool (any JDK; apt-get install openjdk-17-jre-headless); neither is here"
    "$keytool" -importcert -noprompt -alias fleet-ca -file "$CA/ca.crt" -storetype PKCS12 \
      -keystore "$d/truststore.p12" -storepass "$pw" >/dev/null 2>&1 \
      || die "controller: keytool could not write $d/truststore.p12"
  fi
}

cmd_revoke() {
  require_ca
  [ $# -eq 1 ] || die "revoke: give exactly one common name (a node id or controller-<n>)"
  local cn=$1 serials
  serials=$(valid_serials "$cn")
  [ -n "$serials" ] || die "revoke: no valid certificate with CN '$cn' in $CA/index.txt ('$0 list' shows them)"
  local s
  for s in $serials; do
    openssl ca -batch -config "$CA/openssl.cnf" -revoke "$CA/issued/$s.pem" -crl_reason keyCompromise 2>/dev/null \
      || die "revoke: openssl ca could not revoke serial $s"
  done
  gen_crl
  rm -rf "${DIR:?}/nodes/$cn"
  say "revoked '$cn'; new CRL $CA/crl.pem: run '$0 secrets' and apply the broker secret, then restart the broker"
}

cmd_crl() { require_ca; gen_crl; say "CRL re-issued, valid $CRL_DAYS days: $CA/crl.pem"; }

cmd_secrets() {
  require_ca
  local ns=edgeslm
  while [ $# -gt 0 ]; do
    case "$1" in
      --namespace) ns=${2:?--namespace needs a name}; shift 2 ;;
      *) die "secrets: unknown argument '$1' (use --namespace NS)" ;;
    esac
  done
  command -v kubectl >/dev/null 2>&1 || die "secrets: kubectl is not on PATH (Debian: apt-get install kubernetes-client)"
  [ -f "$DIR/broker/tls.crt" ] || die "secrets: no broker certificate yet: run '$0 broker --dns ...' first"
  [ -f "$DIR/controller/password" ] || die "secrets: no controller identities yet: run '$0 controller' first"
  mkdir -p "$DIR/secrets"
  kubectl create secret generic mqtt-broker-tls --namespace "$ns" --dry-run=client -o yaml \
    --from-file=ca.crt="$CA/ca.crt" --from-file=tls.crt="$DIR/broker/tls.crt" \
    --from-file=tls.key="$DIR/broker/tls.key" --from-file=crl.pem="$CA/crl.pem" \
    >"$DIR/secrets/mqtt-broker-tls.yaml"
  local args=() f
  for f in "$DIR"/controller/*.p12; do args+=("--from-file=$(basename "$f")=$f"); done
  kubectl create secret generic fleet-controller-mqtt --namespace "$ns" --dry-run=client -o yaml \
    "${args[@]}" --from-file=password="$DIR/controller/password" \
    >"$DIR/secrets/fleet-controller-mqtt.yaml"
  say "wrote $DIR/secrets/mqtt-broker-tls.yaml and fleet-controller-mqtt.yaml: kubectl apply -f $DIR/secrets/"
}

cmd_list() {
  require_ca
  awk -F'\t' '{ state = ($1 == "V" ? "valid" : ($1 == "R" ? "revoked" : $1));
                sub(/^\/CN=/, "", $6); printf "%-8s %-40s serial %s expires %s\n", state, $6, $4, $2 }' \
    "$CA/index.txt"
}

case "$CMD" in
  init) cmd_init "$@" ;;
  broker) cmd_broker "$@" ;;
  node) cmd_node "$@" ;;
  controller) cmd_controller "$@" ;;
  revoke) cmd_revoke "$@" ;;
  crl) cmd_crl "$@" ;;
  secrets) cmd_secrets "$@" ;;
  list) cmd_list "$@" ;;
  *) die "unknown command '$CMD'; run with --help for the list" ;;
esac
