#!/usr/bin/env bash
# Mutation testing with cargo-mutants (pinned, installed when missing).
#
#   bash scripts/mutants.sh diff [BASE]   mutants on the src/ lines changed since BASE
#                                         (default: HEAD~1, the first parent) - the CI mode
#   bash scripts/mutants.sh core          every mutant of src/rules/ and src/registry/
#   bash scripts/mutants.sh all           every mutant of src/
#   bash scripts/mutants.sh emulator FILE... [-- TEST_ARGS]
#                                         every mutant of the emulator's FILEs (paths from the
#                                         repository root), tested with `cargo test -p
#                                         iot-jobs-emulator TEST_ARGS` (default: all its tests)
#
# Fails when a mutant is MISSED (survives every test); a TIMEOUT counts as caught (the mutant hangs
# the tests). Results are in mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt).
# Equivalent mutants are excluded in .cargo/mutants.toml and argued in MUTANTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# The model properties run inside every mutant's test run: a few cases suffice to kill.
export PROPTEST_CASES="${MUTANTS_PROPTEST_CASES:-32}"
need() { cargo install --list | grep -qx "$1 v$2:" || cargo install --locked "$1@$2"; }
need cargo-mutants 27.1.0

mode="${1:-diff}"
args=(--no-shuffle)
case "$mode" in
  diff)
    base="${2:-HEAD~1}"
    if ! git rev-parse --verify -q "$base^{commit}" >/dev/null; then
      echo "mutants: no $base in this clone; nothing to compare against, skipped"
      exit 0
    fi
    diff_file="$(mktemp)"
    git diff "$base" -- src >"$diff_file"
    if [ ! -s "$diff_file" ]; then
      echo "mutants: no change in src/ since $base"
      exit 0
    fi
    args+=(--in-diff "$diff_file")
    ;;
  core) args+=(-f 'src/rules/**/*.rs' -f 'src/registry/**/*.rs') ;;
  all) ;;
  emulator)
    shift
    args+=(-p iot-jobs-emulator)
    while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
      args+=(-f "$1")
      shift
    done
    if [ "${#args[@]}" -eq 3 ]; then
      echo "usage: $0 emulator FILE... [-- TEST_ARGS]" >&2
      exit 1
    fi
    # What follows `--` goes to `cargo test` (e.g. `-- --lib --test mqtt`).
    args+=("$@")
    ;;
  *) echo "usage: $0 [diff [BASE] | core | all | emulator FILE... [-- TEST_ARGS]]" >&2; exit 1 ;;
esac

set +e
cargo mutants "${args[@]}"
rc=$?
set -e
# 0 all caught, 2 missed, 3 timeouts (possibly with misses), anything else is a failure to run.
case "$rc" in 0 | 2 | 3) ;; *) echo "mutants: cargo mutants failed (rc $rc)"; exit "$rc" ;; esac
for f in caught missed timeout unviable; do
  printf '%s: %s\n' "$f" "$( (cat "mutants.out/$f.txt" 2>/dev/null || true) | wc -l)"
done
if [ -s mutants.out/missed.txt ]; then
  echo "mutants: MISSED mutants (kill them with a test, or argue them equivalent in MUTANTS.md and"
  echo "exclude them in .cargo/mutants.toml):"
  cat mutants.out/missed.txt
  exit 1
fi
echo "mutants: no mutant survived"
