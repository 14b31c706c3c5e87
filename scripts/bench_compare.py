#!/usr/bin/env python3
"""Writes the tables of two `scripts/bench.sh` runs side by side (no dependencies).

Usage: scripts/bench_compare.py DIR BEFORE AFTER > benches/compare.md
  DIR  target/bench-compare of `scripts/bench_compare.sh`: the worktrees `before/` and `after/`
       (each with `benches/results.md` and `benches/target/bench-out/`) and `emulators.log`
A table of the same heading and columns on both sides becomes one table whose cells read
"before → after" (one figure where both are equal, "–" where a side has no such row); a table
on one side only is kept as it is, under its side's name.
"""
import os
import re
import sys


def blocks(text):
    """[(heading, header_row, {first_cell: cells}, [first_cell order])] of the markdown tables."""
    out, heading, table = [], "", None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if table is None:
                table = (heading, cells, {}, [])
            elif set(line.replace("|", "").strip()) <= set("-: "):
                continue
            else:
                table[2][cells[0]] = cells[1:]
                table[3].append(cells[0])
            continue
        if table is not None:
            out.append(table)
            table = None
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
    return out


def cell(b, a):
    if b is None:
        return f"– → {a}"
    if a is None:
        return f"{b} → –"
    return b if a == b else f"{b} → {a}"


def table(cols, rows):
    """A markdown table: the header `cols`, then each row (its first cell, the row's name, first)."""
    return (["| " + " | ".join(cols) + " |", "|---" + "|---:" * (len(cols) - 1) + "|"]
            + ["| " + " | ".join(r) + " |" for r in rows])


def merge(before, after, names):
    md = []
    after_tables = {(h, tuple(c)): (rows, order) for h, c, rows, order in after}
    used = set()
    for h, cols, rows, order in before:
        key = (h, tuple(cols))
        md.append(f"\n#### {h or '(untitled)'}\n")
        if key not in after_tables:
            md.append(f"({names[0]} only)\n")
            md += table(cols, [[k] + rows[k] for k in order])
            continue
        used.add(key)
        arows, aorder = after_tables[key]
        none = [None] * (len(cols) - 1)
        merged = []
        for k in order + [k for k in aorder if k not in rows]:
            b, a = rows.get(k) or none, arows.get(k) or none
            merged.append([k] + [cell(x, y) for x, y in zip(b, a)])
        md += table(cols, merged)
    for h, cols, rows, order in after:
        if (h, tuple(cols)) in used:
            continue
        md.append(f"\n#### {h or '(untitled)'}\n\n({names[1]} only)\n")
        md += table(cols, [[k] + rows[k] for k in order])
    return md


def read(path):
    return open(path).read() if os.path.exists(path) else ""


def flash(path):
    """flash.txt (`name .text N .rodata N .bss N` per line) as a markdown table."""
    rows = ["| binary | .text | .rodata | .bss |", "|---|---:|---:|---:|"]
    for line in read(path).splitlines():
        f = line.split()
        if len(f) >= 3 and f[1].startswith(".") and not f[0].startswith("("):
            d = dict(zip(f[1::2], f[2::2]))
            rows.append(f"| {f[0]} | {d.get('.text', '–')} | {d.get('.rodata', '–')} | {d.get('.bss', '–')} |")
    return "### Flash (thumbv7em-none-eabihf, opt-level z, LTO)\n\n" + "\n".join(rows) + "\n"


def side(d):
    out = os.path.join(d, "benches", "target", "bench-out")
    return (read(os.path.join(d, "benches", "results.md")) + "\n### Memory\n\n"
            + read(os.path.join(out, "memory.md")) + "\n" + flash(os.path.join(out, "flash.txt")))


def main():
    d, before, after = sys.argv[1:4]
    names = (f"before ({before})", f"after ({after})")
    md = [f"# Benchmarks: {names[0]} → {names[1]}, one run", "",
          "Written by `bash scripts/bench_compare.sh " + before + " " + after + "`; every cell reads",
          "\"before → after\" (one figure where both are equal).", ""]
    for s in ("before", "after"):
        m = read(os.path.join(d, s, "benches", "target", "bench-out", "machine.txt")).strip()
        md += [f"{names[0 if s == 'before' else 1]}:", "```", m, "```", ""]
    md += merge(blocks(side(os.path.join(d, "before"))), blocks(side(os.path.join(d, "after"))), names)
    emu = read(os.path.join(d, "emulators.log"))
    tables = emu[emu.find("| server |"):] if "| server |" in emu else ""
    md += ["", "### Emulators (`benches/emulators/run.sh`, both builds in one run; \"before\" is "
           f"{before}, \"ours\" {after})", "", re.sub(r"\n{3,}", "\n\n", tables).strip()]
    print("\n".join(md))


if __name__ == "__main__":
    main()
