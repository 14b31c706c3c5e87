#!/usr/bin/env bash
# The whole test suite. Installs what it needs (rustup target and components), then runs every
# check CI runs. Usage: bash scripts/test.sh   (from the repository root). Measured on 2 cores,
# on fresh clones on fresh machines (CI's .ci/run): 2,685 to 3,382 s (45 to 55 min) on 2026-12-02,
# of which Miri took 1,157 s; Miri's two targets at once take about 390 s since 2026-12-03.
# That includes building cargo-fuzz, cargo-llvm-cov, cargo-mutants and cargo-deny, fetching the
# nightly and MSRV toolchains and installing mosquitto and the Python tools (about 10 min; the
# Python step is mostly the emulator's release build for its wheel); when the last commit changes
# src/, it also builds cargo-semver-checks (about 6 min).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0 RUST_BACKTRACE=1
THUMB=thumbv7em-none-eabihf
T0=$SECONDS
step() { echo; echo "=== [$((SECONDS - T0))s] $*"; }

step "toolchain: $THUMB target, llvm-tools"
rustup target add "$THUMB" >/dev/null
rustup component add llvm-tools-preview clippy rustfmt >/dev/null

step "format"
cargo fmt --all -- --check
(cd panic-check && cargo fmt -- --check)
(cd fuzz && cargo fmt -- --check)

step "clippy (host, all targets, all features; thumb, each feature set)"
cargo clippy --all-targets --all-features -- -D warnings
for f in "" serde defmt serde,defmt serde,defmt,alloc; do
  cargo clippy --lib --target "$THUMB" --no-default-features --features "$f" -- -D warnings
done

step "no_std builds for $THUMB"
for f in "" serde defmt serde,defmt serde,defmt,alloc; do
  echo "features: [${f}]"
  cargo build --lib --target "$THUMB" --no-default-features --features "$f"
done

step "panic freedom: link check (release, LTO, opt-level z) and size"
(
  cd panic-check
  cargo build --release --target "$THUMB"
  "$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-size" -A "target/$THUMB/release/panic-check" |
    grep -E '^\.(text|rodata|data|bss) '
)

step "flash binaries per layer (each also a panic-freedom link check) and their size"
(
  cd benches/flash
  cargo fmt -- --check
  cargo build --release --target "$THUMB"
  for b in rules topics-harness topics-device messages registry full device-ram; do
    printf '%-14s' "$b"
    "$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-size" -A "target/$THUMB/release/$b" |
      awk '$1==".text"||$1==".bss"{printf " %s %d", $1, $2} END{print ""}'
  done
)

step "tests (no features, then all features, incl. doc tests)"
cargo test --no-default-features
cargo test --all-features

step "emulator: clippy, HTTP, MQTT and reliability integration tests"
cargo clippy -p iot-jobs-emulator --all-targets -- -D warnings
cargo test -p iot-jobs-emulator

step "emulator: end-to-end with the real AWS CLI, boto3, paho-mqtt and the AWS IoT Device SDK"
bash emulator/e2e/run.sh

step "python: wheels (maturin), audit, the bindings' and the plugin's pytest suites"
bash scripts/python.sh

step "docs (warnings denied), the private items' too, the emulator's included, the core's without features"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p iot-jobs-core # no features: no link to a gated item
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features --document-private-items -p iot-jobs-core -p iot-jobs-emulator

step "publishing: MSRV builds, package, docs.rs build, cargo-deny, semver-checks on API changes"
bash scripts/publish-check.sh

step "the crate's benchmarks compile (scripts/bench.sh runs them, outside CI)"
(cd benches && cargo fmt -- --check && cargo bench --no-run)

step "benchmark scripts: each of benches/emulators once at its smallest size, its answers checked"
bash scripts/bench-smoke.sh

step "examples: decision tables, device agent against the registry"
cargo run --quiet --example decision_tables >/dev/null
cargo run --quiet --example device >/dev/null

step "verification: Miri (64/32-bit), model properties, fuzz smoke, coverage >= 95%, mutants on the change"
bash scripts/verify.sh

echo
echo "test.sh: every check passed in $((SECONDS - T0))s"
