#!/usr/bin/env bash
# Every figure of BENCHMARKS.md §1–§5 for two revisions, measured one after the other on the
# same machine in one run, and written side by side ("before → after") to benches/compare.md:
# each revision's own `scripts/bench.sh` (decisions, registry operations at 1k..1M, memory,
# flash) in a detached worktree, then `benches/emulators/run.sh` with both emulators beside
# moto and ministack.
# Usage: bash scripts/bench_compare.sh BEFORE [AFTER]   (revisions; AFTER defaults to HEAD)
# Takes two runs of bench.sh plus two release builds of the emulator (~30 min here); outside CI.
# The two worktrees stay in target/bench-compare for inspection (each run replaces them; remove
# them with `git worktree remove --force target/bench-compare/before` and `.../after`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BEFORE=$(git rev-parse --short "${1:?usage: bench_compare.sh BEFORE [AFTER]}")
AFTER=$(git rev-parse --short "${2:-HEAD}")
DIR=$ROOT/target/bench-compare
mkdir -p "$DIR"
for side in before after; do
  rev=$BEFORE; [ $side = after ] && rev=$AFTER
  wt=$DIR/$side
  git worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
  git worktree add --detach "$wt" "$rev" >/dev/null
  # Start from this tree's compiled dependencies (hard links; cargo rebuilds what differs).
  for t in target benches/target; do
    [ -d "$ROOT/$t/release" ] || continue
    mkdir -p "$wt/$t/release"
    cp -al "$ROOT/$t/release/deps" "$wt/$t/release/" 2>/dev/null || true
    cp -a "$ROOT/$t/release/build" "$ROOT/$t/release/.fingerprint" "$wt/$t/release/" 2>/dev/null || true
  done
  echo "=== $side: $rev"
  (cd "$wt" && bash scripts/bench.sh) >"$DIR/$side.log" 2>&1
  (cd "$wt" && cargo build -q --release -p iot-jobs-emulator)
done
echo "=== emulators (both builds, moto, ministack)"
BEFORE_BIN=$DIR/before/target/release/iot-jobs-emulator OURS_BIN=$DIR/after/target/release/iot-jobs-emulator \
  bash benches/emulators/run.sh >"$DIR/emulators.log" 2>&1
python3 scripts/bench_compare.py "$DIR" "$BEFORE" "$AFTER" >benches/compare.md
echo "bench_compare.sh: done; benches/compare.md (logs in $DIR)"
