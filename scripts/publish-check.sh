#!/usr/bin/env bash
# Publishing checks (docs/RELEASING.md): the declared MSRV builds the core for the host and for
# thumbv7em with every feature set; the core packages and builds from its package alone; the
# docs.rs build (nightly, `--cfg docsrs`) has no warnings; cargo-deny's offline checks pass; and,
# when the last commit changed `src/`, cargo-semver-checks compares the public API with the
# baseline in `.ci/semver-baseline`. Usage: bash scripts/publish-check.sh [--semver]
# (about 2 min with the tools present; a first run downloads the MSRV toolchain, about 1 min, and
# builds cargo-deny, about 3 min; semver-checks, when it runs for the first time, about 7 min more)
set -euo pipefail
cd "$(dirname "$0")/.."
THUMB=thumbv7em-none-eabihf
MSRV=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
source scripts/lib.sh

echo "--- MSRV $MSRV: the core for the host and for $THUMB, every feature set"
rustup toolchain install "$MSRV" --profile minimal --target "$THUMB" >/dev/null
cargo "+$MSRV" build --lib --all-features
for f in "" serde defmt serde,defmt serde,defmt,alloc; do
  cargo "+$MSRV" build --lib --target "$THUMB" --no-default-features --features "$f"
done

echo "--- package: iot-jobs-core built from its .crate alone; iot-jobs-emulator's contents"
# Its own target directory: a verified package shares the crate's fingerprints, and would leave
# the workspace's build pointing at the packaged copy of the sources.
CARGO_TARGET_DIR=target/package-check cargo package -p iot-jobs-core --allow-dirty
cargo package -p iot-jobs-core --allow-dirty --list
ls -l target/package-check/package/iot-jobs-core-*.crate
# The emulator depends on the unpublished core: listed, not verified.
cargo package -p iot-jobs-emulator --allow-dirty --no-verify --list

echo "--- docs.rs build: all features, --cfg docsrs (feature badges), warnings denied"
nightly_with
RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo "+$NIGHTLY" doc --no-deps --all-features

# Advisories clone the RustSec database from GitHub, which these machines cannot reach: run
# `cargo deny check advisories` where it is reachable (docs/RELEASING.md).
echo "--- cargo-deny: licences, bans, sources"
need cargo-deny 0.20.2
cargo deny --all-features check licenses bans sources
cargo deny --workspace --all-features check licenses bans sources

BASE=$(cat .ci/semver-baseline)
if [ "${1:-}" = "--semver" ] || ! git diff --quiet HEAD~1 HEAD -- src/ 2>/dev/null; then
  echo "--- cargo-semver-checks against $BASE (the public API at the baseline)"
  need cargo-semver-checks 0.51.0
  cargo semver-checks -p iot-jobs-core --baseline-rev "$BASE" --all-features
else
  echo "--- cargo-semver-checks: the last commit did not change src/ (run with --semver to force)"
fi
