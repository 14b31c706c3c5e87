#!/usr/bin/env bash
# Every benchmark script of benches/emulators, once, at its smallest size: what CI runs so that a
# script broken by a change of the emulator (a seed it now refuses, an answer it no longer parses)
# fails the build instead of the next person who measures. The figures are not looked at; what is
# checked is that each script finishes and that what it measured was answered: no refused
# request, socket error or round-trip error in ours, a result line for every measurement.
# Usage: bash scripts/bench-smoke.sh   (from anywhere; 2-3 min with the release build present;
#        BIN=path of the emulator to use instead of building this tree's in release)
# The full runs and their sizes are in BENCHMARKS.md, "Reproducing".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
E=benches/emulators
OUT=target/bench-smoke; rm -rf "$OUT"; mkdir -p "$OUT"
if [ -z "${BIN:-}" ]; then cargo build -q --release -p iot-jobs-emulator; BIN=target/release/iot-jobs-emulator; fi
BIN=$(realpath "$BIN")
T0=$SECONDS

fail() { echo "bench-smoke: $*" >&2; exit 1; }
# run NAME CMD...: runs one script (at most 5 min), its output in $OUT/NAME.log.
run() {
  local name=$1 t=$SECONDS; shift
  if ! timeout 300 "$@" >"$OUT/$name.log" 2>&1; then
    tail -20 "$OUT/$name.log" >&2
    fail "$name failed (rc above; the whole output in $OUT/$name.log)"
  fi
  echo "bench-smoke: $name ran in $((SECONDS - t))s"
}
# expect NAME COUNT REGEX: at least COUNT lines of NAME's output match REGEX.
expect() {
  local n
  n=$(grep -cE -- "$3" "$OUT/$1.log" || true)
  [ "$n" -ge "$2" ] || { cat "$OUT/$1.log" >&2; fail "$1: $n lines match /$3/, expected at least $2"; }
}

# §5: ours against moto and ministack. Every request of ours answered 2xx, none lost.
run run env DURATION=1s CONNS=8 THINGS=10 OURS_BIN="$BIN" bash $E/run.sh
awk '$1 == "ours" {
       n++; split($0, f, /[ =]/)
       for (i in f) v[f[i]] = f[i + 1]
       if (v["requests"] == 0 || v["ok"] != v["requests"] || v["sockerr"] != 0) { print "bad: " $0; bad = 1 }
     }
     END { exit bad || n != 4 }' target/compare-logs/results.txt || fail "run: a load of ours was not answered in full"
expect run 4 '^\| ministack \| [a-z]+ \| [0-9,]+ \|'
run list_cpu bash $E/list_cpu.sh 200 "$BIN"
expect list_cpu 1 '^list_cpu: 200 requests, [0-9]+ B each: [0-9.]+ us of server CPU per request$'
run listings env N=300 SECONDS=0.3 python3 $E/listings.py "$BIN"
expect listings 2 ' DescribeJob (alone|beside ListJobs) +[0-9,]+/s'
run list_filters env N=300 SECONDS=0.3 THINGS=1 python3 $E/list_filters.py "$BIN"
expect list_filters 1 'every page of ListJobs status=COMPLETED: .*, 0 jobs$'
expect list_filters 2 'DescribeJob beside .*: [0-9,]+/s'
run thing_groups env G=200 J=10 SECONDS=0.3 python3 $E/thing_groups.py "$BIN"
expect thing_groups 5 ' [0-9,]+/s  p50 '
run group_listings env G=200 SECONDS=0.3 python3 $E/group_listings.py "$BIN"
expect group_listings 2 'DescribeThingGroup .* [0-9,]+/s'
run group_memory env N=500 G=20 python3 $E/group_memory.py "$BIN"
expect group_memory 1 'all 1,500 things in'

# §7: MQTT.
run mqtt_run env SECONDS_EACH=1 DEVICES=4 bash $E/mqtt_run.sh
awk '/^ours/ { n++; if ($(NF - 5) == 0 || $(NF - 2) != 0) { print "bad: " $0; bad = 1 } }
     END { exit bad || n != 7 }' "$OUT/mqtt_run.log" || fail "mqtt_run: a run of ours had errors or no round trips"
run bridge_ab env ROUNDS=1 DEVICES=4 SECONDS_EACH=1 THINGS=8 bash $E/bridge_ab.sh "$BIN" "$BIN"
awk '$1 == "1" { n++; if ($4 == 0 || $7 != 0) { print "bad: " $0; bad = 1 } } END { exit bad || n != 2 }' \
  "$OUT/bridge_ab.log" || fail "bridge_ab: a run had errors or no round trips"
run mqtt_memory env N=100 python3 $E/mqtt_memory.py "$BIN"
expect mqtt_memory 2 ' (backlog|retained) +[0-9]+ +[0-9]+ +-?[0-9]+$'
run mqtt_fanout env R=50 SESSIONS=0,20 python3 $E/mqtt_fanout.py "$BIN"
expect mqtt_fanout 2 ' (0|20) +[0-9]+ +[0-9]+ +[0-9.]+$'
run mqtt_hoard env SHARED=50 python3 $E/mqtt_hoard.py "$BIN"
expect mqtt_hoard 1 ' pinned .* 1000 acked, 0 refused$'
expect mqtt_hoard 1 ' shared .* 100 acked, 0 refused$'
expect mqtt_hoard 2 ' (fanout|distinct) .* acked'
run mqtt_retained env SECONDS=0.3 RETAINED=200 python3 $E/mqtt_retained.py "$BIN"
expect mqtt_retained 6 '(SUBSCRIBE|PUBLISH) .* [0-9,]+/s'
run mqtt_groups env SECONDS=0.3 GROUPS=20,30 python3 $E/mqtt_groups.py "$BIN"
expect mqtt_groups 2 ' groups: +[0-9,]+/s'

# §8: the journal. Both loads answered with no socket error, the state recovered after a kill.
run journal env DURATION=1s BIN="$BIN" bash $E/journal.sh 1k
awk '$1 == "1k" && ($2 == 16 || $2 == 64) { n++; if ($3 == 0 || $4 == 0 || $6 != 0) { print "bad: " $0; bad = 1 } }
     END { exit bad || n != 2 }' "$OUT/journal.log" || fail "journal: a load had socket errors or no updates"
expect journal 1 '^1k: recovery after SIGKILL: [0-9]+ ms \(records=[1-9][0-9]* replayed\)$'
run sync_latency python3 $E/sync_latency.py "$ROOT/target"
expect sync_latency 5 ' p50 [0-9.]+ ms '

# §9: a long clock advance, in each of its three cases.
run advance env THINGS=2 DAYS=30 python3 $E/advance.py "$BIN"
expect advance 3 ': advance [0-9.]+ s, peak [0-9,]+ MiB, [1-9][0-9,]* notifications$'

echo "bench-smoke: every benchmark script ran in $((SECONDS - T0))s"
