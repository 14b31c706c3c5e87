#!/usr/bin/env bash
# The Python packages: builds the wheel of every Python package of the repository with a pinned
# maturin (`maturin build --release`), audits each wheel (tag, files, native code: no stray shared
# library), installs them into a FRESH venv (not the build venv) and runs their pytest suites there
# with no Rust toolchain on the PATH; then clippy on the bindings crate.
# Usage: bash scripts/python.sh   (from anywhere; needs python3 with venv, and cargo)
# Venvs and wheels live under target/ (the build venv is reused while its pins match; the test
# venv is made anew every run). A package or test folder listed below that is missing fails the
# script. The release builds share the workspace's target/ with every other cargo build.
# Measured on 2 shared cores, emulator package only: 5 min 31 s with an empty target dir (the
# emulator's release build 3 min 42 s to 5 min of it, the two venvs 30 s, pytest 5 s), 40-50 s
# when the release build is up to date (pip into the fresh venv is most of it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MATURIN=1.16.0
AUDITWHEEL=6.8.2
PYTEST=9.2.0
BOTO3=1.44.5 # the same pin as emulator/e2e/run.sh
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BUILD_VENV=$TARGET/python/build-venv
TEST_VENV=$TARGET/python/test-venv
WHEELS=$TARGET/python/wheels
T0=$SECONDS
step() { echo "python: [$((SECONDS - T0))s] $*"; }
fail() {
  echo "python: $*" >&2
  exit 1
}

# Every Python package: its folder (with pyproject.toml), its import name, the tag its wheel must
# carry (abi3: one wheel for CPython >= 3.9; a bin wheel: any Python 3), and the extras the tests
# install it with ("-": none).
PACKAGES=(
  "emulator iot_jobs_emulator py3-none-manylinux_* [boto3]"
  "bindings/python iot_jobs_core cp39-abi3-manylinux_* -"
)
# Every pytest suite, run against the installed wheels.
TEST_DIRS=(emulator/python/tests bindings/python/tests examples/python)
# The crate of the bindings (clippy, warnings denied).
BINDINGS_CRATE=iot-jobs-core-py

for p in "${PACKAGES[@]}"; do
  read -r dir _ _ _ <<<"$p"
  [ -f "$dir/pyproject.toml" ] || fail "$dir/pyproject.toml is missing (listed in PACKAGES)"
done
for d in "${TEST_DIRS[@]}"; do
  [ -d "$d" ] || fail "the test folder $d is missing (listed in TEST_DIRS)"
done

step "build venv: maturin==$MATURIN auditwheel==$AUDITWHEEL ($BUILD_VENV)"
if ! "$BUILD_VENV/bin/python" -c "import importlib.metadata as m, sys
sys.exit(m.version('maturin') != '$MATURIN' or m.version('auditwheel') != '$AUDITWHEEL')" 2>/dev/null; then
  rm -rf "$BUILD_VENV"
  python3 -m venv "$BUILD_VENV" || fail "cannot create $BUILD_VENV"
  "$BUILD_VENV/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN" \
    "auditwheel==$AUDITWHEEL" || fail "pip install of the build tools failed"
fi

INSTALL=()
for p in "${PACKAGES[@]}"; do
  read -r dir name tag extras <<<"$p"
  out=$WHEELS/$name
  rm -rf "$out"
  step "build: $dir (maturin build --release)"
  t=$SECONDS
  (cd "$dir" && "$BUILD_VENV/bin/maturin" build --release --quiet --out "$out" \
    --interpreter "$BUILD_VENV/bin/python") || fail "maturin build of $dir failed"
  shopt -s nullglob
  wheels=("$out"/*.whl)
  shopt -u nullglob
  [ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $out, found ${#wheels[@]}"
  echo "python: built $(basename "${wheels[0]}") in $((SECONDS - t))s"
  "$BUILD_VENV/bin/python" scripts/wheel_audit.py "${wheels[0]}" "$name" "$tag" \
    --auditwheel "$BUILD_VENV/bin/auditwheel" || fail "the audit of $(basename "${wheels[0]}") failed"
  [ "$extras" = - ] && extras=
  INSTALL+=("${wheels[0]}$extras")
done

step "fresh test venv: the wheels, pytest==$PYTEST boto3==$BOTO3 ($TEST_VENV)"
rm -rf "$TEST_VENV"
python3 -m venv "$TEST_VENV" || fail "cannot create $TEST_VENV"
"$TEST_VENV/bin/pip" install --quiet --disable-pip-version-check "pytest==$PYTEST" "boto3==$BOTO3" \
  "${INSTALL[@]}" || fail "pip install into the test venv failed"

step "pytest: ${TEST_DIRS[*]} (installed wheels, no Rust toolchain on the PATH)"
# Only the venv and the system's folders on the PATH: the binary must come from the wheel. One
# session for every suite, rooted at the repository, with pytest's defaults (`-c /dev/null`: no
# package's pyproject.toml is picked as the configuration by the order of the folders).
env -u IOT_JOBS_EMULATOR_BIN -u PYTHONPATH -u PYTEST_ADDOPTS -u PYTEST_PLUGINS \
  -u PYTEST_DISABLE_PLUGIN_AUTOLOAD PATH="$TEST_VENV/bin:/usr/local/bin:/usr/bin:/bin" \
  VIRTUAL_ENV="$TEST_VENV" \
  "$TEST_VENV/bin/pytest" -p no:cacheprovider --rootdir "$ROOT" -c /dev/null "${TEST_DIRS[@]}" ||
  fail "pytest failed"

step "clippy: $BINDINGS_CRATE (all targets, warnings denied)"
PYO3_PYTHON="$BUILD_VENV/bin/python" cargo clippy -p "$BINDINGS_CRATE" --all-targets -- -D warnings

step "every check passed"
