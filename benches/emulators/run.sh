#!/usr/bin/env bash
# Throughput of our emulator vs moto and ministack: same seed, same wrk load, one run.
# Usage: bash benches/emulators/run.sh   (env: DURATION=10s CONNS=64 THREADS=2 THINGS=100;
#        OURS_BIN=path of the emulator to measure instead of building this tree's;
#        BEFORE_BIN=path of another build, measured too, as the server "before")
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benches/emulators
MOTO_VERSION=5.2.5 MINISTACK_VERSION=1.5.33
DURATION=${DURATION:-10s} CONNS=${CONNS:-64} THREADS=${THREADS:-2} THINGS=${THINGS:-100}
LOGS=target/compare-logs; mkdir -p "$LOGS"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
VENV=target/compare-venv
[ -x $VENV/bin/python ] || python3 -m venv $VENV
$VENV/bin/pip install -q "moto[server]==$MOTO_VERSION" "ministack==$MINISTACK_VERSION"
if [ -z "${OURS_BIN:-}" ]; then cargo build -q --release -p iot-jobs-emulator; OURS_BIN=target/release/iot-jobs-emulator; fi
SERVERS=(ours moto ministack)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Distinct ports for every call (free_port.py keeps a ledger of those given).
PORTS=target/free-ports.$$; mkdir -p target; : >"$PORTS"
free_port() { python3 benches/emulators/free_port.py "$PORTS"; }
wait_up() {  # any HTTP answer on the port counts as up
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "server on port $1 did not start; see $LOGS" >&2; exit 1
}

declare -A PORT
PORT[ours]=$(free_port)
"$OURS_BIN" --addr "127.0.0.1:${PORT[ours]}" --mqtt-addr off --clock manual --log-level warn \
  >"$LOGS/ours.log" 2>&1 & PIDS+=($!)
if [ -n "${BEFORE_BIN:-}" ]; then
  SERVERS=(before ours moto ministack)
  PORT[before]=$(free_port)
  "$BEFORE_BIN" --addr "127.0.0.1:${PORT[before]}" --mqtt-addr off --clock manual --log-level warn \
    >"$LOGS/before.log" 2>&1 & PIDS+=($!)
fi
PORT[moto]=$(free_port)
$VENV/bin/moto_server -H 127.0.0.1 -p "${PORT[moto]}" >"$LOGS/moto.log" 2>&1 & PIDS+=($!)
PORT[ministack]=$(free_port)
BIND_HOST=127.0.0.1 GATEWAY_PORT=${PORT[ministack]} LOG_LEVEL=WARNING $VENV/bin/ministack \
  >"$LOGS/ministack.log" 2>&1 & PIDS+=($!)

RESULTS=$LOGS/results.txt; : >"$RESULTS"
for s in "${SERVERS[@]}"; do
  wait_up "${PORT[$s]}"
  echo "$s on 127.0.0.1:${PORT[$s]}"
  $VENV/bin/python $HERE/seed.py "http://127.0.0.1:${PORT[$s]}" "$THINGS"
done
echo "load: wrk -t$THREADS -c$CONNS -d$DURATION per operation per server; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for op in describe startnext update list; do
  for s in "${SERVERS[@]}"; do
    line=$(OP=$op THINGS=$THINGS wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s \
             -s $HERE/load.lua "http://127.0.0.1:${PORT[$s]}" | grep '^RESULT')
    echo "$s $op $line" | tee -a "$RESULTS"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
$VENV/bin/python $HERE/report.py <"$RESULTS"
