#!/usr/bin/env bash
# Verification beyond the unit tests: Miri (64- and 32-bit), the model-based property tests,
# a fuzz smoke of every target, line coverage with a floor, and mutation testing of the changed
# lines. Installs what it needs (pinned; skipped when present). Usage, from anywhere:
#
#   bash scripts/verify.sh            # everything (about 15 min on 2 cores with the tools present)
#   bash scripts/verify.sh miri props # only some steps: miri props fuzz coverage mutants
#
# Knobs: PROPTEST_CASES (default 30000), FUZZ_SECS per target (default 40),
# COVERAGE_FLOOR (default 95), MUTANTS_MODE (default diff; core or all for full runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0 RUST_BACKTRACE=1
T0=$SECONDS
step() { echo; echo "=== [$((SECONDS - T0))s] $*"; }
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(miri props fuzz coverage mutants)
want() { [[ " ${steps[*]} " == *" $1 "* ]]; }

source scripts/lib.sh

step "tools: $NIGHTLY (miri, rust-src), llvm-tools, cargo-fuzz, cargo-llvm-cov, cargo-mutants"
if want miri || want fuzz; then nightly_with miri rust-src; fi
if want coverage; then
  rustup component add llvm-tools-preview >/dev/null
  need cargo-llvm-cov 0.9.1
fi
if want fuzz; then need cargo-fuzz 0.13.2; fi
if want mutants; then need cargo-mutants 27.1.0; fi

if want miri; then
  step "miri: library unit tests, 64-bit host and 32-bit i686 (usize as on thumbv7em)"
  # The crate cannot leak (no_std, no alloc); src/wire/tests/ leaks test strings on purpose
  # (`.leak()` for 'static inputs), which Miri would report at exit.
  export MIRIFLAGS="${MIRIFLAGS:--Zmiri-ignore-leaks}"
  cargo +"$NIGHTLY" miri setup
  # The two targets at once, one per core, each in its own target directory (the interpreter
  # runs a test binary on one thread); their logs are printed in turn.
  target="${CARGO_TARGET_DIR:-$PWD/target}"
  host_log="$(mktemp)" i686_log="$(mktemp)" host_rc=0 i686_rc=0
  cargo +"$NIGHTLY" miri test --lib >"$host_log" 2>&1 &
  host=$!
  CARGO_TARGET_DIR="$target/miri-i686" cargo +"$NIGHTLY" miri test --lib --target i686-unknown-linux-gnu >"$i686_log" 2>&1 &
  i686=$!
  wait "$host" || host_rc=$?
  wait "$i686" || i686_rc=$?
  echo "--- 64-bit host (rc $host_rc)"; cat "$host_log"
  echo "--- 32-bit i686 (rc $i686_rc)"; cat "$i686_log"
  rm -f "$host_log" "$i686_log"
  [ "$host_rc" -eq 0 ] && [ "$i686_rc" -eq 0 ] || { echo "miri: a target failed"; exit 1; }
fi

if want props; then
  cases="${PROPTEST_CASES:-30000}"
  step "model-based property tests: $cases cases per property"
  PROPTEST_CASES="$cases" cargo test --test model_props
fi

if want fuzz; then
  secs="${FUZZ_SECS:-40}"
  step "fuzz smoke: every target for ${secs}s, seeds and dictionaries; any finding fails"
  (
    cd fuzz
    cargo +"$NIGHTLY" fuzz build
    for t in registry_model ids topic wire json cron snapshot; do
      case "$t" in
        ids) dict=(-dict=dict/ids.dict) ;;
        snapshot) dict=(-dict=dict/snapshot.dict) ;;
        topic) dict=(-dict=dict/topic.dict) ;;
        wire | json) dict=(-dict=dict/json.dict) ;;
        cron) dict=(-dict=dict/cron.dict) ;;
        *) dict=() ;;
      esac
      mkdir -p "corpus/$t"
      echo "--- $t"
      log="$(mktemp)"
      rc=0
      cargo +"$NIGHTLY" fuzz run "$t" "corpus/$t" "corpus/seed-$t" -- \
        "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || rc=$?
      grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$log" || true
      if [ "$rc" -ne 0 ]; then
        tail -60 "$log"
        echo "fuzz: $t failed (rc $rc); reproduce with: cd fuzz && cargo +$NIGHTLY fuzz run $t artifacts/$t/<file>"
        exit 1
      fi
    done
  )
fi

if want coverage; then
  floor="${COVERAGE_FLOOR:-95}"
  step "coverage of src/ (lines >= ${floor}%)"
  log="$(mktemp)"
  rc=0
  # Every feature, as the tests run: without them the `alloc` storage and the snapshots are
  # compiled out and not counted. The scale test (a million executions) adds time, not lines.
  PROPTEST_CASES="${COVERAGE_PROPTEST_CASES:-256}" \
    cargo llvm-cov --all-features --summary-only --fail-under-lines "$floor" \
    -- --skip a_million_executions_in_host_memory >"$log" 2>&1 || rc=$?
  grep -E '^(Filename|TOTAL)|\.rs ' "$log" || tail -40 "$log"
  if [ "$rc" -ne 0 ]; then
    tail -5 "$log"
    echo "coverage: below ${floor}% of lines (or the tests failed)"
    exit 1
  fi
fi

if want mutants; then
  step "mutation testing (${MUTANTS_MODE:-diff})"
  bash scripts/mutants.sh "${MUTANTS_MODE:-diff}"
fi

echo
echo "verify.sh: ${steps[*]} passed in $((SECONDS - T0))s"
