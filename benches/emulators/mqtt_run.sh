#!/usr/bin/env bash
# Device round trips over MQTT (StartNext + UpdateJobExecution, each waiting for its answer) beside
# the same round trips over our HTTP data plane, and beside ministack's jobs over MQTT (its
# MQTT-over-WebSocket on the gateway port: it has no plain-TCP listener) and HTTP: same seed, same
# Python load generator (mqtt_load.py, paho-mqtt 2.2.0), one run, one server at a time.
# Also ours in bridge mode through a mosquitto 2 (apt) on loopback, and our MQTT rows again with
# a Rust generator (emulator/examples/mqtt_load.rs, rumqttc) that needs less CPU than paho.
# Our MQTT over WebSocket (`--mqtt-ws-addr`) is measured with both generators, beside its TCP
# and ministack's WebSocket rows (the Rust one relays each device's TCP through a WebSocket).
# Usage: bash benches/emulators/mqtt_run.sh   (env: SECONDS_EACH=5 DEVICES="16 64" PROCS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benches/emulators
MINISTACK_VERSION=1.5.33 PAHO=2.2.0
SECONDS_EACH=${SECONDS_EACH:-5} DEVICES=${DEVICES:-"16 64"}
LOGS=target/compare-logs; mkdir -p "$LOGS"
export PATH=$PATH:/usr/sbin:/sbin

command -v mosquitto >/dev/null || { apt-get update -qq && apt-get install -y -qq mosquitto; }
VENV=target/compare-venv
[ -x $VENV/bin/python ] || python3 -m venv $VENV
$VENV/bin/pip install -q "ministack==$MINISTACK_VERSION" "paho-mqtt==$PAHO"
cargo build -q --release -p iot-jobs-emulator --bins --example mqtt_load

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# Distinct ports for every call (free_port.py keeps a ledger of those given).
PORTS=target/free-ports.$$; mkdir -p target; : >"$PORTS"
free_port() { python3 benches/emulators/free_port.py "$PORTS"; }
wait_up() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
            echo "server on port $1 did not start; see $LOGS" >&2; exit 1; }
wait_tcp() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
             echo "nothing listens on $1" >&2; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
MAX=0; for d in $DEVICES; do [ "$d" -gt "$MAX" ] && MAX=$d; done

HTTP=$(free_port) MQTT=$(free_port) WS=$(free_port)
target/release/iot-jobs-emulator --addr "127.0.0.1:$HTTP" --mqtt-addr "127.0.0.1:$MQTT" \
  --mqtt-ws-addr "127.0.0.1:$WS" --clock manual \
  --log-level warn >"$LOGS/ours-mqtt.log" 2>&1 & OURS=$!; PIDS+=($OURS)
BROKER=$(free_port) BHTTP=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nset_tcp_nodelay true\n' "$BROKER" \
  >"$LOGS/mosquitto.conf"
mosquitto -c "$LOGS/mosquitto.conf" >"$LOGS/mosquitto.log" 2>&1 & MOSQ=$!; PIDS+=($MOSQ)
wait_tcp "$BROKER"
target/release/iot-jobs-emulator --addr "127.0.0.1:$BHTTP" --mqtt-broker "mqtt://127.0.0.1:$BROKER" \
  --clock manual --log-level warn >"$LOGS/ours-bridge.log" 2>&1 & BRIDGED=$!; PIDS+=($BRIDGED)
MS=$(free_port)
BIND_HOST=127.0.0.1 GATEWAY_PORT=$MS IOT_MTLS_ENABLED=0 LOG_LEVEL=WARNING $VENV/bin/ministack \
  >"$LOGS/ministack-mqtt.log" 2>&1 & MSP=$!; PIDS+=($MSP)
for p in "$HTTP" "$BHTTP" "$MS"; do wait_up "$p"; $VENV/bin/python $HERE/seed.py "http://127.0.0.1:$p" "$MAX"; done
sleep 1

echo "load: mqtt_load.py, ${SECONDS_EACH}s per run, PROCS=${PROCS:-2}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-24s %7s %9s %8s %8s %7s %9s %9s\n' server devices "rt/s" p50_ms p99_ms errors "srv_cpu%" "gen_cpu%"
HZ=$(getconf CLK_TCK)
run() {  # name, server pids (CPU summed), target, devices
  local name=$1 pids=$2 target=$3 d=$4 before=0 after=0 p
  for p in $pids; do before=$((before + $(cpu_ticks "$p"))); done
  local w0; w0=$(date +%s%N)
  local line t0 t1
  if [ "${target%%://*}" = rust ]; then  # the Rust generator: its CPU from the shell's children
    t0=$(awk '{print $16 + $17}' /proc/$$/stat)
    line=$(target/release/examples/mqtt_load "${target#rust://}" "$d" "$SECONDS_EACH" | grep '^RESULT')
    t1=$(awk '{print $16 + $17}' /proc/$$/stat)
    line="$line loadgen_cpu_pct=$(( (t1 - t0) * 100000 / HZ / $(( ($(date +%s%N) - w0) / 1000000 )) ))"
  else
    line=$($VENV/bin/python $HERE/mqtt_load.py "$target" "$d" "$SECONDS_EACH" | grep '^RESULT')
  fi
  for p in $pids; do after=$((after + $(cpu_ticks "$p"))); done
  local wall_ms=$(( ($(date +%s%N) - w0) / 1000000 ))
  local v; v() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  # Server CPU over the whole run, connecting included (the load is on for SECONDS_EACH of it).
  printf '%-24s %7s %9s %8s %8s %7s %9s %9s\n' "$name" "$d" "$(v req_per_s)" "$(v p50_ms)" "$(v p99_ms)" \
    "$(v errors)" "$(( (after - before) * 100000 / HZ / wall_ms ))" "$(v loadgen_cpu_pct)"
}
for d in $DEVICES; do
  run "ours mqtt (tcp)" "$OURS" "mqtt://127.0.0.1:$MQTT" "$d"
  run "ours mqtt (ws)" "$OURS" "ws://127.0.0.1:$WS" "$d"
  run "ours http" "$OURS" "http://127.0.0.1:$HTTP" "$d"
  run "ours via mosquitto" "$BRIDGED $MOSQ" "mqtt://127.0.0.1:$BROKER" "$d"
  run "ministack mqtt (ws)" "$MSP" "ws://127.0.0.1:$MS" "$d"
  run "ministack http" "$MSP" "http://127.0.0.1:$MS" "$d"
  run "ours mqtt, rust gen" "$OURS" "rust://127.0.0.1:$MQTT" "$d"
  run "ours mqtt (ws), rust gen" "$OURS" "rust://ws://127.0.0.1:$WS" "$d"
  run "ours via mosq, rust gen" "$BRIDGED $MOSQ" "rust://127.0.0.1:$BROKER" "$d"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
