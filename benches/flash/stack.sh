#!/usr/bin/env bash
# The device agent's stack frames on thumbv7em (release, LTO, opt-level z): builds `agent-stack`
# (an `Agent<512>` and an `Agent<8192>` in statics) and prints the frame (`sub sp`) of each
# function on the path of `handle`, largest first. Usage: bash benches/flash/stack.sh
# Outside CI (BENCHMARKS §4 quotes it); needs llvm-objdump from llvm-tools (rustup component).
set -euo pipefail
cd "$(dirname "$0")"
THUMB=thumbv7em-none-eabihf
cargo build -q --release --target "$THUMB" --bin agent-stack
OBJDUMP="$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/llvm-objdump"
"$OBJDUMP" -d --no-show-raw-insn --demangle "target/$THUMB/release/agent-stack" | python3 -c '
import re, sys
frames, current = {}, None
for line in sys.stdin:
    m = re.match(r"^[0-9a-f]+ <(.+)>:", line)
    if m:
        current = m.group(1)
        frames.setdefault(current, 0)
        continue
    m = re.search(r"\bsub(?:\.w|w)?\s+sp, (?:sp, )?#(0x[0-9a-f]+|\d+)", line)
    if m and current:
        frames[current] += int(m.group(1), 0)
for name, size in sorted(frames.items(), key=lambda x: -x[1])[:12]:
    if size:
        print(f"{size:>7} B  {name[:110]}")
'
