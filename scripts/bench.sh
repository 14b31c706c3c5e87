#!/usr/bin/env bash
# Reproduces every figure of BENCHMARKS.md: instruction counts (gungraun/callgrind), wall-clock
# times (criterion), memory (size_of), flash (.text on thumbv7em-none-eabihf, opt-level z, LTO),
# then the tables (benches/results.md) and the plot (benches/growth.svg).
# Usage: bash scripts/bench.sh   (from anywhere; ~10 min on 2 busy cores, + ~2 min to install
# gungraun-runner the first time). BENCH_SIZES=1000,10000 limits the criterion registry sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TERM_COLOR=never
THUMB=thumbv7em-none-eabihf
OUT=$ROOT/benches/target/bench-out
mkdir -p "$OUT"
step() { echo; echo "=== $*"; }

step "tools: valgrind, gungraun-runner 0.20.0 (same version as the gungraun library), $THUMB, llvm-tools"
command -v valgrind >/dev/null || { apt-get update && apt-get install -y valgrind; }
cargo install --list | grep -qx "gungraun-runner v0.20.0:" || cargo install --locked gungraun-runner@0.20.0
rustup target add "$THUMB" >/dev/null
rustup component add llvm-tools-preview >/dev/null
SIZE="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-size"

step "machine"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc: $(nproc)"
  grep -m1 'model name' /proc/cpuinfo
  free -h | head -2
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  rustc --version
  valgrind --version
} | tee "$OUT/machine.txt"

cd "$ROOT/benches"
step "instruction counts (callgrind; deterministic)"
cargo bench --bench instructions -- --output-format=json >"$OUT/instructions.jsonl"

step "wall-clock: decisions (criterion)"
cargo bench --bench rules -- --warm-up-time 1 --measurement-time 2 | tee "$OUT/rules.txt"

step "wall-clock: registry operations at 1k..1M executions (criterion)"
cargo bench --bench registry | tee "$OUT/registry.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"

step "memory"
cargo run --quiet --release --bin memory | tee "$OUT/memory.md"

step "flash (.text, .rodata) on $THUMB, opt-level z, LTO, codegen-units 1, panic abort"
(
  cd flash
  cargo build --release --target "$THUMB"
  for b in empty rules topics-device topics messages registry full device-ram; do
    printf '%-14s' "$b"
    "$SIZE" -A "target/$THUMB/release/$b" |
      awk '$1==".text"||$1==".rodata"||$1==".bss"{printf " %s %6d", $1, $2} END{print ""}'
  done
  echo "(device-ram .bss = size of Registry<Fixed<4, 1, 8, 2, 64>> on $THUMB)"
) | tee "$OUT/flash.txt"

step "tables and plot"
cd "$ROOT"
python3 scripts/bench_report.py "$OUT/instructions.jsonl" benches/target/criterion benches
echo
echo "bench.sh: done; tables in benches/results.md, plot in benches/growth.svg, raw output in $OUT"
