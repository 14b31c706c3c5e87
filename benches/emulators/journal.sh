#!/usr/bin/env bash
# The write-ahead journal's cost: UpdateJobExecution/s with --state-file beside the in-memory
# figure (same binary, same seed, same run), at several state sizes; recovery time and disk
# size; DescribeJobExecution latency while updates are being persisted.
# Then the pause a checkpoint causes: DescribeJobExecution latency (p99 and max) while 16
# clients update and a checkpoint is written every CKPT_SECS seconds (back to back if one
# takes longer); and the resident memory of the
# emulator without and with the journal (whose checkpoints keep a replica of the state).
# Usage: bash benches/emulators/journal.sh [SIZES...]   (sizes in executions: 1k 100k 1m;
#        env: DURATION=5s THREADS=2 CKPT_SECS=1 BIN=path of an emulator binary to measure
#        instead of building this tree's; ROUNDS=1: with more, the throughput is measured in
#        that many rounds, in memory and with the journal alternately (each round a new server
#        from the same seed), and the table gives the medians and each round's ratio)
# A size is THINGS things x JOBS jobs (each job targets a group of every thing); the load updates the
# executions of job1 (IN_PROGRESS -> IN_PROGRESS: every update is a change, journalled).
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=benches/emulators
DURATION=${DURATION:-5s} THREADS=${THREADS:-2} CKPT_SECS=${CKPT_SECS:-1} ROUNDS=${ROUNDS:-1}
SIZES=("${@:-1k 100k}")
read -r -a SIZES <<<"${SIZES[*]}"
OUT=target/journal-bench; rm -rf "$OUT"; mkdir -p "$OUT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
if [ -z "${BIN:-}" ]; then cargo build -q --release -p iot-jobs-emulator; BIN=target/release/iot-jobs-emulator; fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# Distinct ports for every call (free_port.py keeps a ledger of those given).
PORTS=target/free-ports.$$; mkdir -p target; : >"$PORTS"
free_port() { python3 benches/emulators/free_port.py "$PORTS"; }
wait_up() { for _ in $(seq 6000); do curl -s -o /dev/null "http://127.0.0.1:$1/_emulator/stats" && return 0; sleep 0.05; done; exit 1; }
now_ms() { date +%s%3N; }
rss_mb() { awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
AUTH='AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00'

# seed PORT THINGS JOBS: THINGS things, JOBS jobs over all of them (SNAPSHOT).
seed() {
  python3 - "$@" <<'EOF'
import json, sys, urllib.request
port, things, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def call(m, p, body):
    r = urllib.request.Request(f"http://127.0.0.1:{port}{p}", method=m, data=json.dumps(body).encode())
    r.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00")
    with urllib.request.urlopen(r, timeout=600) as resp:
        assert resp.status == 200
        return resp.read()
# A job has at most 100 targets: the jobs target a group of every thing.
fleet = json.loads(call("POST", "/thing-groups/fleet", {}))["thingGroupArn"]
for i in range(things):
    call("POST", f"/things/t{i}", {})
    call("PUT", "/thing-groups/addThingToThingGroup", {"thingGroupName": "fleet", "thingName": f"t{i}"})
for j in range(1, jobs + 1):
    call("PUT", f"/jobs/job{j}", {"targets": [fleet], "document": "{}", "targetSelection": "SNAPSHOT"})
EOF
}

load() {  # load PORT OP CONNS THINGS -> RESULT line
  OP=$2 THINGS=$4 wrk -t"$THREADS" -c"$3" -d"$DURATION" --timeout 10s -s $HERE/load.lua "http://127.0.0.1:$1" | grep '^RESULT'
}
rate() { awk '{for(i=1;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]}} END {printf "%.0f", v["ok"]/v["secs"]}' <<<"$1"; }
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1==k {print $2}'; }
median() { tr ' ' '\n' <<<"$*" | grep . | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

printf '%-6s %-8s %6s %10s %10s %6s  %s\n' size clients memory journal ratio sockerr "ratio per round" >"$OUT/results.txt"
for size in "${SIZES[@]}"; do
  case $size in
    1k) THINGS=100 JOBS=10 ;;
    100k) THINGS=1000 JOBS=100 ;;
    1m) THINGS=1000 JOBS=1000 ;;
    *) echo "size $size: 1k, 100k or 1m" >&2; exit 2 ;;
  esac
  DIR=$OUT/$size; mkdir -p "$DIR"
  # In memory: seed, export the state (the journal run starts from it), measure.
  P=$(free_port)
  $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level warn --max-body-bytes 1073741824 >"$DIR/mem.log" 2>&1 & MEM=$!; PIDS+=($MEM)
  wait_up $P
  t0=$(now_ms); seed $P $THINGS $JOBS; t1=$(now_ms)
  curl -sf -H "Authorization: $AUTH" "http://127.0.0.1:$P/_emulator/state" -o "$DIR/seed.json"
  echo "$size: seeded $THINGS things x $JOBS jobs in $((t1 - t0)) ms; snapshot $(stat -c %s "$DIR/seed.json") bytes" | tee -a "$OUT/notes.txt"
  declare -A MEMR=()
  for c in 16 64; do MEMR[$c]=$(load $P update $c $THINGS); done
  MEM_RSS=$(rss_mb $MEM)
  kill -9 $MEM
  # With the journal, from the exported snapshot as its state file.
  mkdir -p "$DIR/state"; cp "$DIR/seed.json" "$DIR/state/state.json"
  P=$(free_port); t0=$(now_ms)
  $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level warn --state-file "$DIR/state/state.json" >"$DIR/journal.log" 2>&1 & J=$!; PIDS+=($J)
  wait_up $P; t1=$(now_ms)
  echo "$size: start from the snapshot alone: $((t1 - t0)) ms" | tee -a "$OUT/notes.txt"
  echo "$size: resident memory: $MEM_RSS MB in memory after its loads, $(rss_mb $J) MB with the journal at its start" | tee -a "$OUT/notes.txt"
  declare -A ALLM=() ALLJ=() ERR=()
  for c in 16 64; do
    JR=$(load $P update $c $THINGS)
    ALLM[$c]=$(rate "${MEMR[$c]}"); ALLJ[$c]=$(rate "$JR"); ERR[$c]=$(field "$JR" sockerr)
  done
  # Reads while updates are persisted (16 writers, 16 readers).
  OP=update THINGS=$THINGS wrk -t1 -c16 -d"$DURATION" --timeout 10s -s $HERE/load.lua "http://127.0.0.1:$P" >/dev/null & W=$!
  R=$(OP=describe THINGS=$THINGS wrk -t1 -c16 -d"$DURATION" --timeout 10s -s $HERE/load.lua "http://127.0.0.1:$P" | grep '^RESULT')
  wait $W
  echo "$size: DescribeJobExecution while 16 clients update: p50 $(field "$R" p50_us) us, p99 $(field "$R" p99_us) us, $(rate "$R")/s" | tee -a "$OUT/notes.txt"
  du -sb "$DIR/state" | awk -v s=$size '{print s ": disk " $1 " bytes (snapshot + journal) before the kill"}' | tee -a "$OUT/notes.txt"
  ls -l "$DIR/state" >>"$OUT/notes.txt"
  # Recovery: SIGKILL, restart, time until it answers (snapshot + journal replay).
  kill -9 $J; wait $J 2>/dev/null || true
  P=$(free_port); t0=$(now_ms)
  $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level info --state-file "$DIR/state/state.json" >"$DIR/recover.log" 2>&1 & J=$!; PIDS+=($J)
  wait_up $P; t1=$(now_ms)
  echo "$size: recovery after SIGKILL: $((t1 - t0)) ms ($(grep -o 'records=[0-9]*' "$DIR/recover.log" || echo 'records=0') replayed)" | tee -a "$OUT/notes.txt"
  kill -9 $J; wait $J 2>/dev/null || true
  # A checkpoint's pause: reads during updates with a checkpoint every CKPT_SECS seconds (from
  # the seeded snapshot again), and the same without checkpoints for comparison.
  for ck in 100000 $CKPT_SECS; do
    rm -rf "$DIR/state"; mkdir -p "$DIR/state"; cp "$DIR/seed.json" "$DIR/state/state.json"
    P=$(free_port)
    $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level warn,iot_jobs_emulator=debug,iot_jobs_emulator::state=info --state-file "$DIR/state/state.json" --checkpoint-records 1000000000 --checkpoint-seconds $ck >"$DIR/pause-$ck.log" 2>&1 & J=$!; PIDS+=($J)
    wait_up $P
    OP=update THINGS=$THINGS wrk -t1 -c16 -d"$DURATION" --timeout 10s -s $HERE/load.lua "http://127.0.0.1:$P" >"$DIR/pause-update-$ck.txt" & W=$!
    R=$(OP=describe THINGS=$THINGS wrk -t1 -c16 -d"$DURATION" --timeout 10s -s $HERE/load.lua "http://127.0.0.1:$P" | grep '^RESULT')
    wait $W
    U=$(grep '^RESULT' "$DIR/pause-update-$ck.txt")
    n=$(grep -c 'checkpoint written' "$DIR/pause-$ck.log" || true)
    echo "$size: checkpoint every $ck s ($n written): DescribeJobExecution p50 $(field "$R" p50_us) us, p99 $(field "$R" p99_us) us, max $(field "$R" max_us) us; updates $(rate "$U")/s" | tee -a "$OUT/notes.txt"
    kill -9 $J; wait $J 2>/dev/null || true
  done
  # More rounds of the throughput, in memory and with the journal alternately, from the seed.
  for _ in $(seq 2 "$ROUNDS"); do
    P=$(free_port)
    $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level warn --max-body-bytes 1073741824 >"$DIR/mem.log" 2>&1 & MEM=$!; PIDS+=($MEM)
    wait_up $P
    curl -sf -X POST -H "Authorization: $AUTH" --data-binary @"$DIR/seed.json" "http://127.0.0.1:$P/_emulator/state" -o /dev/null
    for c in 16 64; do ALLM[$c]+=" $(rate "$(load $P update $c $THINGS)")"; done
    kill -9 $MEM; wait $MEM 2>/dev/null || true
    rm -rf "$DIR/state"; mkdir -p "$DIR/state"; cp "$DIR/seed.json" "$DIR/state/state.json"
    P=$(free_port)
    $BIN --addr 127.0.0.1:$P --mqtt-addr off --clock manual --log-level warn --state-file "$DIR/state/state.json" >"$DIR/journal.log" 2>&1 & J=$!; PIDS+=($J)
    wait_up $P
    for c in 16 64; do
      JR=$(load $P update $c $THINGS)
      e=$(field "$JR" sockerr); ALLJ[$c]+=" $(rate "$JR")"; ERR[$c]=$((ERR[$c] + ${e:-0}))
    done
    kill -9 $J; wait $J 2>/dev/null || true
  done
  for c in 16 64; do
    read -r -a ms <<<"${ALLM[$c]}"; read -r -a js <<<"${ALLJ[$c]}"
    per=""; for i in "${!ms[@]}"; do per+=" $((100 * js[i] / (ms[i] > 0 ? ms[i] : 1)))%"; done
    m=$(median "${ms[@]}"); j=$(median "${js[@]}")
    printf '%-6s %-8s %6s %10s %9s%% %6s  %s\n' $size $c $m $j $((100 * j / (m > 0 ? m : 1))) "${ERR[$c]}" "${per# }" >>"$OUT/results.txt"
  done
done
echo; cat "$OUT/notes.txt"; echo; cat "$OUT/results.txt"
