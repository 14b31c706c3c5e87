#!/usr/bin/env bash
# Lookups at 1k → 1M executions, before and after a change, in one run: instructions and
# simulated D1 / last-level read misses per lookup (callgrind --cache-sim through gungraun,
# benches/benches/misses.rs) and wall-clock median / p99 per lookup (benches/src/bin/lookups.rs,
# pinned to one core, with 4 KiB pages and with transparent huge pages), then the tables for
# BENCHMARKS.md §2 (benches/lookups.md) and the growth curve (benches/lookups.svg).
#
# Usage: BEFORE=<rev or crate directory> AFTER=<rev or crate directory> bash scripts/lookups.sh
#   defaults: BEFORE=main, AFTER=this checkout. A rev is exported with `git archive` (the
#   repository is not touched); a directory is used as it is (another worktree, say).
#   Both sides run THIS checkout's benches/ (public API only) against their own crate, so the
#   measurement is the same code. LOOKUP_SIZES=1000,1000000 limits the wall-clock sizes,
#   LOOKUP_ROUNDS=3 sets how many times each wall-clock figure is taken (the best is kept).
# Duration: 13–17 min on 2 cores at load 5–6 (callgrind ~6 min per side, wall-clock ~1 min per
# round, building ~1 min per side with the dependencies already compiled).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
BEFORE=${BEFORE:-main}
AFTER=${AFTER:-$ROOT}
SIZES=${LOOKUP_SIZES:-1000,10000,100000,1000000}
ROUNDS=${LOOKUP_ROUNDS:-3}
OUT=$ROOT/benches/target/lookups
TARGET=$ROOT/benches/target # shared: both sides reuse the compiled dependencies
rm -rf "$OUT"
mkdir -p "$OUT"
step() { echo; echo "=== $*"; }

step "tools: valgrind, gungraun-runner 0.20.0"
command -v valgrind >/dev/null || { apt-get update && apt-get install -y valgrind; }
. scripts/lib.sh
need gungraun-runner 0.20.0

# side NAME SPEC: this checkout's benches/ at $OUT/NAME/benches, depending on SPEC's crate (a
# directory as it is, or a rev exported to $OUT/NAME/crate).
side() {
  local name=$1 spec=$2 dir=$OUT/$1 crate rev
  mkdir -p "$dir/benches"
  if [ -d "$spec" ]; then
    crate=$(cd "$spec" && pwd)
    rev="$(git -C "$crate" rev-parse --short HEAD)$(git -C "$crate" diff --quiet HEAD -- src Cargo.toml || echo +changes)"
  else
    crate=$dir/crate
    mkdir -p "$crate"
    git archive "$spec" | tar -x -C "$crate"
    rev=$(git rev-parse --short "$spec")
  fi
  echo "$name: $spec ($rev)" | tee -a "$OUT/sides.txt"
  cp -a "$ROOT/benches/Cargo.lock" "$ROOT/benches/src" "$ROOT/benches/benches" "$dir/benches/"
  sed "s|^iot-jobs-core = { path = \"..\"|iot-jobs-core = { path = \"$crate\"|" "$ROOT/benches/Cargo.toml" \
    >"$dir/benches/Cargo.toml"
  grep -q "path = \"$crate\"" "$dir/benches/Cargo.toml" || { echo "lookups.sh: benches/Cargo.toml: no path dependency" >&2; exit 1; }
}

step "sources"
side before "$BEFORE"
side after "$AFTER"

step "build (release: lookups; bench profile: misses)"
for s in before after; do
  (
    cd "$OUT/$s/benches"
    CARGO_TARGET_DIR=$TARGET cargo build --release --bin lookups
    cp "$TARGET/release/lookups" "$OUT/$s/lookups"
  )
done

step "machine"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo
  echo "transparent_hugepage: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

step "wall-clock (taskset -c 1; 4 KiB pages, then GLIBC_TUNABLES=glibc.malloc.hugetlb=1; $ROUNDS rounds)"
# Sides alternate within each round, so a change of load hits both alike; the report keeps, for
# each figure, the round with the lowest median (the least disturbed one) and says the spread.
for round in $(seq "$ROUNDS"); do
  for pages in 4k thp; do
    env=()
    [ "$pages" = thp ] && env=(GLIBC_TUNABLES=glibc.malloc.hugetlb=1)
    for s in before after; do
      for run in "--sizes $SIZES --keys 4096" "--sizes 1000000 --keys 262144"; do
        # shellcheck disable=SC2086
        env "${env[@]}" taskset -c 1 "$OUT/$s/lookups" $run --batches 5000 2>/dev/null |
          sed "s/^{/{\"side\":\"$s\",\"pages\":\"$pages\",\"round\":$round,/" >>"$OUT/wall.jsonl"
      done
    done
  done
done
echo "load after wall-clock: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

step "instructions and cache misses (callgrind --cache-sim=yes; deterministic)"
for s in before after; do
  (
    cd "$OUT/$s/benches"
    CARGO_TARGET_DIR=$TARGET cargo bench --bench misses -- --output-format=json |
      sed "s/^{/{\"side\":\"$s\",/" >"$OUT/misses-$s.jsonl"
  )
done

step "tables and plot"
python3 scripts/lookups_report.py "$OUT" benches
echo
echo "lookups.sh: done; tables in benches/lookups.md, plot in benches/lookups.svg, raw output in $OUT"
