# Shared by the scripts: `need TOOL VERSION` installs a pinned cargo tool when it is missing;
# `NIGHTLY` is the nightly the tooling notes pinned (the machine's `nightly` when it is that one),
# and `nightly_with COMPONENT...` makes sure it is there with those components.
need() { cargo install --list | grep -qx "$1 v$2:" || cargo install --locked "$1@$2"; }

NIGHTLY=nightly-2026-05-20
if rustup run nightly rustc -V 2>/dev/null | grep -q '1.97.0-nightly (e50aa6fba 2026-05-19)'; then
  NIGHTLY=nightly
fi

nightly_with() {
  if [ "$NIGHTLY" = nightly ]; then
    # Never `rustup toolchain install nightly` here: that would update the channel.
    [ $# -eq 0 ] || rustup component add --toolchain nightly "$@" >/dev/null
  else
    local c=()
    for x in "$@"; do c+=(-c "$x"); done
    rustup toolchain install "$NIGHTLY" --profile minimal "${c[@]}" >/dev/null
  fi
}
