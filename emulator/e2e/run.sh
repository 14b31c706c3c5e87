#!/usr/bin/env bash
# End-to-end suite: the real AWS CLI, boto3 and the AWS SDK for JavaScript v3 against iot-jobs-emulator.
# Usage: bash emulator/e2e/run.sh   (from anywhere; needs python3 with venv, and cargo)
# Creates a venv with pinned boto3/awscli (reused while the pins match), builds the emulator,
# starts it with --clock manual on a free loopback port (the restart test starts its own with
# --state-file), runs test_e2e.py, test_e2e_groups.py (thing-group hierarchy, tags, event
# configurations) and test_e2e_templates.py (job templates, managed templates), and kills the
# server on exit. Exits non-zero on any failure; then runs test_e2e_mqtt.py (paho-mqtt,
# awsiotsdk, MQTT.js over WebSocket (Node.js, npm and MQTT.js installed when missing, see js/),
# and the crate's agent in emulator/examples/device_mqtt.rs) against the same
# emulator's broker, then test_e2e_bridge.py (bridge mode: its own mosquitto and an emulator
# started with --mqtt-broker; the README's mosquitto_sub/mosquitto_pub session). mosquitto and
# mosquitto-clients are installed with apt-get when missing. Each suite ends with a line
# "e2e[ groups| templates| mqtt| bridge]: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
export E2E_T0=$(date +%s)
BOTO3=1.44.5
AWSCLI=1.46.3
PAHO=2.2.0
AWSIOTSDK=1.31.0
VENV=${E2E_VENV:-$ROOT/target/e2e-venv}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

fail() {
  echo "e2e: $*" >&2
  echo "e2e: 0 passed, 1 failed"
  exit 1
}

PINS_OK="import boto3, awscli, paho.mqtt, importlib.metadata as m, sys
sys.exit(boto3.__version__ != '$BOTO3' or awscli.__version__ != '$AWSCLI' or paho.mqtt.__version__ != '$PAHO'
         or m.version('awsiotsdk') != '$AWSIOTSDK')"
if ! "$VENV/bin/python" -c "$PINS_OK" 2>/dev/null; then
  echo "e2e: creating $VENV with boto3==$BOTO3 awscli==$AWSCLI paho-mqtt==$PAHO awsiotsdk==$AWSIOTSDK"
  python3 -m venv "$VENV" || fail "cannot create the venv"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "boto3==$BOTO3" "awscli==$AWSCLI" \
    "paho-mqtt==$PAHO" "awsiotsdk==$AWSIOTSDK" || fail "pip install failed"
fi

# mosquitto (the broker of the bridge tests) and its clients, from the distribution's packages.
export PATH=$PATH:/usr/sbin:/sbin
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if ! command -v mosquitto >/dev/null || ! command -v mosquitto_sub >/dev/null || ! command -v mosquitto_pub >/dev/null; then
  echo "e2e: installing mosquitto and mosquitto-clients with apt-get"
  $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto mosquitto-clients >/dev/null \
    || fail "cannot install mosquitto and mosquitto-clients"
fi
MOSQUITTO=$(command -v mosquitto) MOSQUITTO_SUB=$(command -v mosquitto_sub) MOSQUITTO_PUB=$(command -v mosquitto_pub)
export MOSQUITTO MOSQUITTO_SUB MOSQUITTO_PUB

# MQTT.js, the MQTT client of browser and Node apps, and the AWS SDK for JavaScript v3, as
# emulator/e2e/js/package-lock.json pins them (installed again when the lock changes); Node.js and
# npm from the distribution when missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: installing nodejs and npm with apt-get"
  $SUDO apt-get update -qq >/dev/null || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null || fail "cannot install nodejs and npm"
fi
NODE_DIR=$TARGET/e2e-node
if ! cmp -s "$ROOT/emulator/e2e/js/package-lock.json" "$NODE_DIR/package-lock.json" \
  || [ ! -f "$NODE_DIR/node_modules/mqtt/package.json" ] \
  || [ ! -f "$NODE_DIR/node_modules/@aws-sdk/client-iot/package.json" ]; then
  echo "e2e: installing MQTT.js and the AWS SDK for JavaScript into $NODE_DIR"
  mkdir -p "$NODE_DIR" && cp "$ROOT/emulator/e2e/js/package.json" "$ROOT/emulator/e2e/js/package-lock.json" "$NODE_DIR/" \
    || fail "cannot prepare $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null) || fail "npm ci (MQTT.js, AWS SDK) failed"
fi
EMU_NODE=$(command -v node)
export EMU_NODE EMU_NODE_MODULES=$NODE_DIR/node_modules

echo "e2e: building iot-jobs-emulator"
cargo build --quiet -p iot-jobs-emulator --bins --example device_mqtt || fail "cargo build failed"
BIN=$TARGET/debug/iot-jobs-emulator

WORK=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN" --addr 127.0.0.1:0 --mqtt-addr 127.0.0.1:0 --mqtts-addr 127.0.0.1:0 --mqtt-ws-addr 127.0.0.1:0 --mqtt-wss-addr 127.0.0.1:0 --tls-dir "$WORK/tls" --clock manual --deletion-delay 60 --log-level warn >"$WORK/out" 2>"$WORK/err" &
PID=$!
URL=
for _ in $(seq 100); do
  URL=$(grep -o 'http://[0-9.:]*' "$WORK/out" 2>/dev/null | head -n 1)
  [ -n "$URL" ] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$URL" ] || fail "the emulator did not start: $(cat "$WORK/err")"
MQTT=$(grep -o 'mqtt://[0-9.:]*' "$WORK/out" | head -n 1)
[ -n "$MQTT" ] || fail "the emulator printed no MQTT address: $(cat "$WORK/out")"
MQTTS=$(grep -o 'mqtts://[0-9.:]*' "$WORK/out" | head -n 1)
[ -n "$MQTTS" ] || fail "the emulator printed no MQTT TLS address: $(cat "$WORK/out")"
MQTT_WS=$(grep -o ' ws://[0-9.:]*' "$WORK/out" | head -n 1)
MQTT_WS=${MQTT_WS# }
MQTT_WSS=$(grep -o 'wss://[0-9.:]*' "$WORK/out" | head -n 1)
[ -n "$MQTT_WSS" ] || fail "the emulator printed no MQTT WebSocket over TLS address: $(cat "$WORK/out")"
[ -n "$MQTT_WS" ] || fail "the emulator printed no MQTT WebSocket address: $(cat "$WORK/out")"
echo "e2e: emulator at $URL and ${MQTT} (pid $PID)"

export EMU_URL=$URL EMU_BIN=$BIN EMU_AWS=$VENV/bin/aws EMU_MQTT=${MQTT#mqtt://} EMU_MQTT_WS=${MQTT_WS#ws://} EMU_MQTT_WSS=${MQTT_WSS#wss://}
export EMU_DEVICE=$TARGET/debug/examples/device_mqtt EMU_MQTTS=${MQTTS#mqtts://} EMU_TLS_DIR=$WORK/tls
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_MAX_ATTEMPTS=1 AWS_PAGER=
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e.py"
HTTP_RC=$?
# The thing-group hierarchy, tags and event configurations (boto3 and the AWS CLI).
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e_groups.py"
GROUPS_RC=$?
# Job templates and the AWS managed templates (AWS CLI, boto3).
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e_templates.py"
TEMPLATES_RC=$?
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e_imports.py"
IMPORTS_RC=$?
# The MQTT suite (paho-mqtt and the AWS IoT Device SDK) against the same emulator.
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e_mqtt.py"
MQTT_RC=$?
# Bridge mode against mosquitto (the script starts its own broker and emulators).
"$VENV/bin/python" "$ROOT/emulator/e2e/test_e2e_bridge.py"
BRIDGE_RC=$?
[ "$HTTP_RC" -eq 0 ] && [ "$GROUPS_RC" -eq 0 ] && [ "$TEMPLATES_RC" -eq 0 ] && [ "$IMPORTS_RC" -eq 0 ] && [ "$MQTT_RC" -eq 0 ] && [ "$BRIDGE_RC" -eq 0 ]
