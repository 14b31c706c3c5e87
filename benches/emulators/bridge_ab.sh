#!/usr/bin/env bash
# Two builds of the emulator in bridge mode, side by side: round trips through a mosquitto 2 on
# loopback (StartNext + UpdateJobExecution, each waiting for its answer), driven by the Rust
# generator (emulator/examples/mqtt_load.rs), the builds alternated in each round so that both
# see the same machine. A fresh mosquitto and emulator per build and round, seeded by seed.py.
# MODE=embedded measures the emulator's own broker instead (`--mqtt-addr`, no mosquitto).
# Usage: bash benches/emulators/bridge_ab.sh BEFORE_BIN AFTER_BIN
#        (env: ROUNDS=3 DEVICES="16 64" SECONDS_EACH=5 THINGS=64 MODE=bridge|embedded)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
BEFORE=$(realpath "$1") AFTER=$(realpath "$2")
cd "$(dirname "$0")/../.."
HERE=benches/emulators
MODE=${MODE:-bridge} ROUNDS=${ROUNDS:-3} DEVICES=${DEVICES:-"16 64"} SECONDS_EACH=${SECONDS_EACH:-5} THINGS=${THINGS:-64}
LOGS=target/bridge-ab; mkdir -p "$LOGS"
export PATH=$PATH:/usr/sbin:/sbin
[ "$MODE" = embedded ] || command -v mosquitto >/dev/null || { apt-get update -qq && apt-get install -y -qq mosquitto; }
cargo build -q --release -p iot-jobs-emulator --example mqtt_load
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# Distinct ports for every call (free_port.py keeps a ledger of those given).
PORTS=target/free-ports.$$; mkdir -p target; : >"$PORTS"
free_port() { python3 benches/emulators/free_port.py "$PORTS"; }
wait_tcp() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done
             echo "nothing listens on $1; see $LOGS" >&2; exit 1; }
case "$MODE" in bridge | embedded) ;; *) echo "MODE is bridge or embedded" >&2; exit 2 ;; esac
echo "load average $(cut -d' ' -f1-3 /proc/loadavg); $MODE; $ROUNDS rounds, ${SECONDS_EACH}s per run"
printf '%-6s %-7s %8s %9s %8s %8s %7s\n' round build devices "rt/s" p50_ms p99_ms errors
for round in $(seq "$ROUNDS"); do
  for build in before after; do
    if [ $build = before ]; then BIN=$BEFORE; else BIN=$AFTER; fi
    BROKER=$(free_port) HTTP=$(free_port) MOSQ=
    if [ "$MODE" = bridge ]; then
      printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nset_tcp_nodelay true\n' "$BROKER" \
        >"$LOGS/mosquitto.conf"
      mosquitto -c "$LOGS/mosquitto.conf" >"$LOGS/mosquitto.log" 2>&1 & MOSQ=$!; PIDS+=($MOSQ)
      wait_tcp "$BROKER"
      mqtt=(--mqtt-broker "mqtt://127.0.0.1:$BROKER")
    else
      mqtt=(--mqtt-addr "127.0.0.1:$BROKER")
    fi
    "$BIN" --addr "127.0.0.1:$HTTP" "${mqtt[@]}" --clock manual --log-level warn \
      >"$LOGS/emulator-$build.log" 2>&1 & EMU=$!; PIDS+=($EMU)
    wait_tcp "$HTTP"
    wait_tcp "$BROKER"
    python3 $HERE/seed.py "http://127.0.0.1:$HTTP" "$THINGS" >/dev/null
    sleep 0.5
    for d in $DEVICES; do
      line=$(target/release/examples/mqtt_load "127.0.0.1:$BROKER" "$d" "$SECONDS_EACH" | grep '^RESULT')
      v() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
      printf '%-6s %-7s %8s %9s %8s %8s %7s\n' "$round" "$build" "$d" "$(v req_per_s)" "$(v p50_ms)" "$(v p99_ms)" "$(v errors)"
    done
    kill "$EMU" $MOSQ; wait "$EMU" $MOSQ 2>/dev/null || true
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
