# The tour's environment (docs/tour.md). Source it from the repository root in every terminal
# before anything else:
#
#   . docs/tour-env.sh
#
# It only sets variables and defines functions; it starts nothing and may be sourced again at any
# time (for example in a new terminal half-way through). Everything the tour writes lives under $T,
# so `rm -rf $T` undoes it; set EDGESLM_TOUR_DIR before sourcing to put it elsewhere.

if [ ! -f docs/tour-env.sh ]; then
  echo "tour-env.sh: source me from the repository root (cd to your clone first)." >&2
  return 2
fi

# A JDK 21 or newer, found the way ./run-agent finds one (a subshell, so that a missing JDK prints
# its instructions without closing your terminal).
if ! JAVA_HOME=$(EDGESLM_JAVA_CALLER=tour-env.sh bash -c '. scripts/lib/java-home.sh && echo "$JAVA_HOME"'); then
  return 1
fi
export JAVA_HOME
J=$JAVA_HOME/bin/java
# Debian installs the broker as /usr/sbin/mosquitto, and a user's PATH there has no /usr/sbin.
if ! command -v mosquitto >/dev/null 2>&1 && [ -x /usr/sbin/mosquitto ]; then PATH=$PATH:/usr/sbin; fi

T=${EDGESLM_TOUR_DIR:-/tmp/edgeslm-tour} # all the tour's files
P=$T/pki                                  # CA, broker, node and controller certificates
K=$T/keys                                 # release keys and the trust store
B=$T/broker                               # Mosquitto's configuration and data
SIGN=model-signing/model-signing          # signs and verifies bundles
FLEETCTL=fleet-controller/fleetctl        # talks to the controller's REST API
FLEET_DB=${EDGESLM_TOUR_DB:-fleet}        # the controller's PostgreSQL database
# PostgreSQL as ./run-tests installs it: on 127.0.0.1, role postgres, trust authentication.
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
mkdir -p "$T"

# fleetctl reads these two. The token is made once (step 3) and kept in $T/token, so every
# terminal has the same one.
export FLEET_URL=http://127.0.0.1:8080
if [ -f "$T/token" ]; then export FLEET_TOKEN=$(cat "$T/token"); fi
# The controllers' PKCS#12 password, once step 1 made it.
if [ -f "$P/controller/password" ]; then PW=$(cat "$P/controller/password"); fi

# bundle NAME VERSION SEED [EVAL_FILE [PADDING_MIB]]: writes a signed bundle to $T/bundles/NAME
# from a synthetic model (another seed, another model and digest), with an optional activation
# check and optional random padding in extra/padding.bin (signed like every file) to make the
# download long. Prints only the bundle's root digest (`root sha256:...`).
bundle() {
  local d=$T/bundles/$1 eval=()
  local cp="testkit/target/classes:$(ls {node-agent,fleet-controller}/target/quarkus-app/lib/main/com.fasterxml.jackson.core.jackson-databind-*.jar 2>/dev/null | head -1)"
  rm -rf "$d" && mkdir -p "$d" || return 1
  "$J" -cp "$cp" io.edgeslm.testkit.GgufWriterMain --shape tiny --type q8_0 --seed "$3" "$d/model.gguf" 2>"$T/bundle.log" >&2 \
    || { cat "$T/bundle.log" >&2; return 1; }
  if [ -n "${4:-}" ]; then cp "$4" "$d/eval.json" && eval=(--evaluation-file eval.json); fi
  if [ "${5:-0}" -gt 0 ]; then
    mkdir -p "$d/extra" && head -c "$(($5 * 1048576))" /dev/urandom > "$d/extra/padding.bin"
  fi
  $SIGN release init --model plant-assistant --version "$2" --channel stable --valid-days 30 \
    --device-class gateway-m --min-agent-version 0.1.0 --model-file model.gguf "${eval[@]}" \
    --out "$d/release.json" >/dev/null || return 1
  $SIGN sign --private-key "$K/rm1.pem" "$d" >/dev/null || return 1
  $SIGN verify --trust-store "$K/root.1.json" "$d" | grep -o 'root sha256:[0-9a-f]*'
}

# controller [ENV=VALUE...]: runs the fleet controller in this terminal, on PostgreSQL database
# $FLEET_DB, with controller-0's MQTT identity (the JVM's key and trust store properties, as the
# StatefulSet sets them). Extra ENV=VALUE arguments are added to its environment.
controller() {
  env FLEET_DATABASE=postgresql QUARKUS_DATASOURCE_ACTIVE=false QUARKUS_DATASOURCE_PG_ACTIVE=true \
    QUARKUS_DATASOURCE_PG_JDBC_URL=jdbc:postgresql://$PGHOST:5432/$FLEET_DB \
    QUARKUS_DATASOURCE_PG_USERNAME=$PGUSER \
    FLEET_MQTT_URI=ssl://127.0.0.1:8883 FLEET_MQTT_CLIENT_ID=controller-0 \
    FLEET_TRUST_ROOT=$K/root.1.json FLEET_AUTH_BOOTSTRAP_ADMIN_TOKEN=$FLEET_TOKEN \
    FLEET_BUNDLES_DIR=$T/controller/bundles FLEET_ROLLOUTS_TICK=PT1S "$@" \
    "$J" -Djavax.net.ssl.keyStore=$P/controller/controller-0.p12 -Djavax.net.ssl.keyStoreType=PKCS12 \
    -Djavax.net.ssl.keyStorePassword=$PW -Djavax.net.ssl.trustStore=$P/controller/truststore.p12 \
    -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=$PW \
    -jar fleet-controller/target/quarkus-app/quarkus-run.jar
}

# agent NODE PORT [BROKER_URL] [LABEL=VALUE...]: runs one node agent in this terminal with its node
# certificate, labels, the trust store, a USB directory ($T/nodes/NODE/stick) and v1 as its
# configured bundle. PORT and PORT+1 must be free. BROKER_URL defaults to the tour's broker; give
# `-` to keep the default and still pass labels.
agent() {
  local n=$1 port=$2 broker=${3:--} d=$T/nodes/$1 l
  shift 3 2>/dev/null || shift $#
  [ "$broker" = - ] && broker=ssl://127.0.0.1:8883
  mkdir -p "$d/stick"
  {
    echo "edgeslm.agent.broker.tls.certificate=$P/nodes/$n/node.crt"
    echo "edgeslm.agent.broker.tls.private-key=$P/nodes/$n/node.key"
    echo "edgeslm.agent.broker.tls.ca=$P/nodes/$n/ca.crt"
    for l in "$@"; do echo "edgeslm.agent.labels.$l"; done
  } > "$d/agent.properties"
  EDGESLM_CONFIG=$d/agent.properties EDGESLM_AGENT_NODE_ID=$n EDGESLM_AGENT_SITE=plant-sys \
    EDGESLM_AGENT_BROKER_URL=$broker EDGESLM_AGENT_DEVICE_CLASS=gateway-m \
    EDGESLM_AGENT_MODEL_PATH=$T/bundles/v1 EDGESLM_AGENT_MODEL_NAME=plant-assistant \
    EDGESLM_AGENT_UPDATES_TRUST_STORE=$K/root.1.json EDGESLM_AGENT_UPDATES_DATA_DIR=$d/data \
    EDGESLM_AGENT_JOURNAL_DIR=$d/journal EDGESLM_AGENT_UPDATES_USB_WATCH_DIR=$d/stick \
    EDGESLM_AGENT_UPDATES_SOAK=5s EDGESLM_AGENT_HEALTH_INTERVAL=5s \
    EDGESLM_MANAGEMENT_PORT=$port \
    "$J" --enable-native-access=ALL-UNNAMED -jar node-agent/target/quarkus-app/quarkus-run.jar
}

# ask NODE [QUESTION]: asks one node through the controller and prints which model answered (the
# synthetic models' text is word salad). A random-weight model sometimes answers nothing, and the
# node then answers from its rules ("source":"rules", no model); ask asks again, up to 5 times, and
# prints the controller's last reply and fails when no model answered.
ask() {
  local r i
  for i in 1 2 3 4 5; do
    r=$($FLEETCTL api POST "/api/v1/nodes/$1/ask" \
      --data "{\"question\": \"${2:-Is the pump running?}\"}") || { echo "$r"; return 1; }
    if echo "$r" | grep -o '"source":"model","model":{[^}]*}'; then return 0; fi
  done
  echo "$r"
  return 1
}

# node_model NODE: prints the model version the controller last heard NODE report.
node_model() {
  $FLEETCTL --json node get "$1" | sed -n 's/.*"version":\([0-9]*\).*/\1/p'
}

# rollout_done ID: true once the rollout has stopped moving (completed, paused or aborted).
rollout_done() {
  $FLEETCTL rollout status "$1" | head -1 | grep -Eq '  (completed|paused|aborted|rolled_back)  '
}
